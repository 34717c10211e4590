// Turns results.json into the tables printed at the end of a run (Markdown, so that
// they paste into RESULTS.md as they are). `node dist/benchmarks/report.js [file]`
// reprints them from a saved results.json.
import { readFileSync } from "node:fs";
import { BLOCKING_SCENARIOS, OTEL_SCENARIOS, BYTES_PATH, IMPLEMENTATIONS, RAW_HTTP2, SCENARIOS, USER_PATH, type Impl, type MetricSpec, type ScenarioSpec } from "./protocol.js";
import type { PairResult, Results } from "./results.js";
import { formatNumber, formatRatio } from "./stats.js";

const OURS: Impl = "async-grpc";

/** A target: ours / `against` on the scenario's primary metric. */
interface Target {
  scenario: string;
  against: Impl;
  /** For higher-is-better metrics, ratio >= bound (or > when strict); for lower-is-better, ratio <= bound. */
  bound: number;
  strict?: boolean;
}

/** One comparison: `ours` against `others`, with the targets that apply to it. */
interface View {
  title: string;
  /** The scenarios the view covers; all by default. */
  scenarios?: readonly string[];
  ours: Impl;
  others: readonly Impl[];
  targets: readonly Target[];
}

/** Issue #9's targets, on the user path (generated clients and protobuf messages). */
export const USER_TARGETS: readonly Target[] = [
  { scenario: "unary-throughput", against: "grpc-js", bound: 2 },
  { scenario: "unary-throughput", against: "raw-http2", bound: 0.9 },
  { scenario: "unary-latency", against: "raw-http2", bound: 1.1 },
  { scenario: "server-stream-16b", against: "raw-http2", bound: 0.6 },
  { scenario: "server-stream-16b", against: "grpc-js", bound: 5 },
  { scenario: "server-stream-64k", against: "raw-http2-tuned", bound: 0.8 },
  { scenario: "server-stream-64k", against: "grpc-js", bound: 3.5 },
  { scenario: "unary-1mib", against: "raw-http2-tuned", bound: 0.8 },
  { scenario: "unary-1mib", against: "grpc-js", bound: 3.5 },
  { scenario: "bidi-ping-pong", against: "raw-http2", bound: 0.95 },
];

/** The targets of the first performance issue, measured on raw bytes: the transport floor. */
export const FLOOR_TARGETS: readonly Target[] = [
  { scenario: "unary-throughput", against: "grpc-js-bytes", bound: 2 },
  { scenario: "unary-throughput", against: "raw-http2", bound: 0.9 },
  { scenario: "unary-latency", against: "raw-http2", bound: 1.15 },
  { scenario: "bidi-ping-pong", against: "raw-http2", bound: 0.9 },
  { scenario: "bidi-ping-pong", against: "grpc-js-bytes", bound: 1, strict: true },
  { scenario: "server-stream-16b", against: "grpc-js-bytes", bound: 3 },
  { scenario: "server-stream-64k", against: "grpc-js-bytes", bound: 4 },
  { scenario: "unary-1mib", against: "grpc-js-bytes", bound: 4 },
];

/** Issue #14: the in-process transport beats loopback HTTP/2 several times over. */
export const IN_PROCESS_TARGETS: readonly Target[] = [
  { scenario: "unary-throughput", against: OURS, bound: 3 },
  { scenario: "unary-latency", against: OURS, bound: 1 / 3 },
];

export const VIEWS: readonly View[] = [
  {
    title: "User path: generated clients and servicers, protobuf messages (ratios are async-grpc / other)",
    ours: OURS,
    others: [...USER_PATH.filter((i) => i !== OURS), ...RAW_HTTP2],
    targets: USER_TARGETS,
  },
  {
    title: "Transport floor: raw bytes, identity serializers (ratios are async-grpc-bytes / other)",
    ours: "async-grpc-bytes",
    others: [...BYTES_PATH.filter((i) => i !== "async-grpc-bytes"), ...RAW_HTTP2],
    targets: FLOOR_TARGETS,
  },
  {
    title: "Blocking client (async-grpc/compat): synchronous unary calls against the async client, same server (ratios are async-grpc-blocking / other)",
    ours: "async-grpc-blocking",
    others: [OURS],
    scenarios: BLOCKING_SCENARIOS,
    targets: [],
  },
  {
    title: "OpenTelemetry plugin (async-grpc/observability) registered on client and server, metrics and tracing, against none (ratios are async-grpc-otel / other)",
    ours: "async-grpc-otel",
    others: [OURS],
    scenarios: OTEL_SCENARIOS,
    targets: [],
  },
  {
    title:
      "In-process transport (async-grpc/testing): the same generated client and servicer connected in memory, against loopback HTTP/2 " +
      "(ratios are async-grpc-inprocess / other; its client CPU is both sides', its server process idles)",
    ours: "async-grpc-inprocess",
    others: [OURS],
    targets: IN_PROCESS_TARGETS,
  },
];

function selfPair(results: Results, impl: Impl): PairResult | undefined {
  return results.pairs.find((p) => !p.cross && p.server === impl && p.client === impl);
}

function medianOf(pair: PairResult | undefined, scenario: string, key: string): number | undefined {
  const v = pair?.scenarios[scenario]?.median[key];
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function targetMet(t: Target, metric: MetricSpec, r: number | undefined): boolean | undefined {
  if (r === undefined) return undefined;
  if (!metric.higherIsBetter) return t.strict ? r < t.bound : r <= t.bound;
  return t.strict ? r > t.bound : r >= t.bound;
}

function describeTarget(t: Target, metric: MetricSpec): string {
  const op = metric.higherIsBetter ? (t.strict ? ">" : "≥") : t.strict ? "<" : "≤";
  return `${op} ${Number(t.bound.toFixed(2))}x ${t.against}`;
}

function metricName(m: MetricSpec): string {
  return m.label === m.unit ? m.label : `${m.label} (${m.unit})`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

function implsIn(results: Results): Impl[] {
  return IMPLEMENTATIONS.filter((i) => selfPair(results, i) !== undefined);
}

function scenariosIn(results: Results): ScenarioSpec[] {
  return SCENARIOS.filter((s) => results.pairs.some((p) => p.scenarios[s.name] !== undefined));
}

/** One table per scenario: every implementation's figures, runs and CPU cost. */
export function scenarioTables(results: Results): string {
  const impls = implsIn(results);
  const out: string[] = [];
  for (const spec of scenariosIn(results)) {
    const metrics = [spec.primary, ...spec.secondary];
    const perOp = spec.name.startsWith("unary") ? "call" : spec.name === "bidi-ping-pong" ? "round trip" : "msg";
    const header = [
      "implementation",
      ...metrics.map(metricName),
      `runs (${spec.primary.label})`,
      `server CPU µs/${perOp}`,
      `client CPU µs/${perOp}`,
      "server peak RSS (MB)",
    ];
    const rows: string[][] = [];
    for (const impl of impls) {
      const pair = selfPair(results, impl);
      const rec = pair?.scenarios[spec.name];
      if (!rec) continue;
      const runs = rec.runs.map((r) => formatNumber(r.metrics[spec.primary.key])).join(" / ");
      const errors = rec.errors.length > 0 ? ` (${rec.errors.length} failed)` : "";
      rows.push([
        impl,
        ...metrics.map((m) => formatNumber(medianOf(pair, spec.name, m.key))),
        runs + errors,
        formatNumber(medianOf(pair, spec.name, "serverCpuUsPerOp")),
        formatNumber(medianOf(pair, spec.name, "clientCpuUsPerOp")),
        formatNumber(medianOf(pair, spec.name, "serverWindowPeakRssMb")),
      ]);
    }
    out.push(`### ${spec.name}: ${spec.title}\n\n${table(header, rows)}\n\n${ratioLine(results, spec)}`);
  }
  return out.join("\n\n");
}

function ratioLine(results: Results, spec: ScenarioSpec): string {
  const present = implsIn(results);
  const better = spec.primary.higherIsBetter ? "higher is better" : "lower is better";
  const lines: string[] = [];
  for (const view of VIEWS) {
    if (!present.includes(view.ours)) continue;
    if (view.scenarios !== undefined && !view.scenarios.includes(spec.name)) continue;
    const ours = medianOf(selfPair(results, view.ours), spec.name, spec.primary.key);
    const parts = view.others
      .filter((i) => present.includes(i))
      .map((impl) => `/ ${impl}: **${formatRatio(ratio(ours, medianOf(selfPair(results, impl), spec.name, spec.primary.key)))}**`);
    if (parts.length > 0) lines.push(`${view.ours} ${spec.primary.label} ${parts.join(", ")} (${better})`);
  }
  return lines.join("  \n");
}

/** A headline table: the primary figure of `ours` and the others, ratios, targets. */
function summaryFor(results: Results, view: View): string | undefined {
  const present = implsIn(results);
  if (!present.includes(view.ours)) return undefined;
  const others = view.others.filter((i) => present.includes(i));
  const header = ["scenario", "metric", view.ours, ...others, ...others.map((i) => `/ ${i}`), "targets"];
  const rows: string[][] = [];
  for (const spec of scenariosIn(results)) {
    if (view.scenarios !== undefined && !view.scenarios.includes(spec.name)) continue;
    const m = spec.primary;
    const of = (i: Impl): number | undefined => medianOf(selfPair(results, i), spec.name, m.key);
    const ours = of(view.ours);
    const targets = view.targets
      .filter((t) => t.scenario === spec.name && present.includes(t.against))
      .map((t) => {
        const met = targetMet(t, m, ratio(ours, of(t.against)));
        return `${describeTarget(t, m)} ${met === undefined ? "?" : met ? "✅" : "❌"}`;
      });
    rows.push([
      spec.name,
      metricName(m),
      formatNumber(ours),
      ...others.map((i) => formatNumber(of(i))),
      ...others.map((i) => formatRatio(ratio(ours, of(i)))),
      targets.join("; "),
    ]);
  }
  return `### ${view.title}\n\n${table(header, rows)}`;
}

/** The headline tables: the user path first, then the transport floor (raw bytes). */
export function summaryTables(results: Results): string {
  return VIEWS.map((v) => summaryFor(results, v))
    .filter((s): s is string => s !== undefined)
    .join("\n\n");
}

/** Server peak RSS and CPU per 100k calls. */
export function resourcesTable(results: Results): string {
  const impls = implsIn(results);
  const header = ["implementation", "server peak RSS (MB)", "server peak RSS in unary 64 in flight (MB)", "server CPU s / 100k calls (64 in flight)", "server CPU s / 100k calls (1 in flight)", "client CPU s / 100k calls (64 in flight)"];
  const rows: string[][] = [];
  const per100k = (p: PairResult | undefined, scenario: string, key: string): number | undefined => {
    const v = medianOf(p, scenario, key);
    return v === undefined ? undefined : v / 10;
  };
  for (const impl of impls) {
    const p = selfPair(results, impl);
    rows.push([
      impl,
      formatNumber(p?.medianServerPeakRssMb),
      formatNumber(medianOf(p, "unary-throughput", "serverWindowPeakRssMb")),
      formatNumber(per100k(p, "unary-throughput", "serverCpuUsPerOp")),
      formatNumber(per100k(p, "unary-latency", "serverCpuUsPerOp")),
      formatNumber(per100k(p, "unary-throughput", "clientCpuUsPerOp")),
    ]);
  }
  const lines: string[] = [];
  for (const [oursImpl, theirs] of [[OURS, "grpc-js"], ["async-grpc-bytes", "grpc-js-bytes"]] as const) {
    const ours = selfPair(results, oursImpl);
    const other = selfPair(results, theirs);
    if (!ours || !other) continue;
    const rss = ratio(ours.medianServerPeakRssMb, other.medianServerPeakRssMb);
    const cpu = ratio(medianOf(ours, "unary-throughput", "serverCpuUsPerOp"), medianOf(other, "unary-throughput", "serverCpuUsPerOp"));
    const met = (r: number | undefined): string => (r === undefined ? "?" : r <= 1 ? "✅" : "❌");
    const perScenario = scenariosIn(results).map((spec) => {
      const r = ratio(medianOf(ours, spec.name, "serverWindowPeakRssMb"), medianOf(other, spec.name, "serverWindowPeakRssMb"));
      return `${spec.name} ${formatRatio(r)} ${met(r)}`;
    });
    lines.push(
      `${oursImpl} / ${theirs}: server peak RSS **${formatRatio(rss)}** (target ≤ 1x ${met(rss)}), ` +
        `server CPU per call **${formatRatio(cpu)}** (lower is better); ` +
        `server peak RSS by scenario: ${perScenario.join(", ")}.`,
    );
  }
  lines.push(
    "Peak RSS is over the whole server process (all scenarios of a round, so the large-message ones dominate), median over rounds; " +
      "by scenario it is the highest RSS sampled (every 50 ms) during that scenario, in a process that ran the scenarios before it.",
  );
  return `${table(header, rows)}\n\n${lines.join("  \n")}`;
}

/** Our client against grpc-js's server and the reverse. */
export function crossTable(results: Results): string {
  const pairs = results.pairs.filter((p) => p.cross || (p.server === p.client && (p.server === OURS || p.server === "grpc-js")));
  if (!results.pairs.some((p) => p.cross)) return "(no cross pairs in this run)";
  const header = [
    "client → server",
    "unary 64 in flight (calls/s)",
    "server CPU µs/call",
    "client CPU µs/call",
    "unary p50 (µs)",
    "unary p99 (µs)",
  ];
  const rows = pairs.map((p) => [
    `${p.client} → ${p.server}`,
    formatNumber(medianOf(p, "unary-throughput", "callsPerSec")),
    formatNumber(medianOf(p, "unary-throughput", "serverCpuUsPerOp")),
    formatNumber(medianOf(p, "unary-throughput", "clientCpuUsPerOp")),
    formatNumber(medianOf(p, "unary-latency", "p50Us")),
    formatNumber(medianOf(p, "unary-latency", "p99Us")),
  ]);
  return table(header, rows);
}

export function errorsSection(results: Results): string {
  const lines: string[] = [];
  for (const p of results.pairs) {
    for (const [name, rec] of Object.entries(p.scenarios)) {
      for (const e of rec.errors) lines.push(`- ${p.label} / ${name}: ${e.split("\n")[0]}`);
    }
  }
  return lines.length === 0 ? "" : `### Failures\n\n${lines.join("\n")}`;
}

/**
 * Results files written before the user path was measured (no `meta.layout`) named
 * the raw-bytes clients and servers `async-grpc` and `grpc-js`: read them as the
 * `-bytes` implementations they were.
 */
export function upgrade(results: Results): Results {
  if (results.meta.layout === 2) return results;
  const renamed = (i: string): Impl => (i === "async-grpc" || i === "grpc-js" ? `${i}-bytes` : i) as Impl;
  return {
    meta: { ...results.meta, layout: 2 },
    pairs: results.pairs.map((p) => ({
      ...p,
      label: p.cross ? p.label.replace(/\b(async-grpc|grpc-js)\b/g, "$1-bytes") : renamed(p.label),
      server: renamed(p.server),
      client: renamed(p.client),
    })),
  };
}

export function fullReport(saved: Results): string {
  const results = upgrade(saved);
  const m = results.meta;
  const head =
    `## Benchmark ${m.quick ? "(quick) " : ""}${m.date}\n\n` +
    `${m.cpuModel}, ${m.nproc} CPUs, node ${m.node}, ${m.platform}, commit ${m.gitCommit}; ` +
    `${m.rounds} round(s) of ${m.warmupMs} ms warm-up + ${m.durationMs} ms per scenario; ` +
    `${m.pinned ? "server on CPU 0, client on CPU 1" : "not pinned"}; load average before ${m.loadAverageBefore.map((x) => x.toFixed(2)).join(" ")}, ` +
    `after ${m.loadAverageAfter.map((x) => x.toFixed(2)).join(" ")}; ${Math.round(m.wallSeconds)} s.` +
    (m.profile ? "\n\n**Profiling was on (--cpu-prof): the figures are slowed down by the profiler.**" : "");
  return [
    head,
    summaryTables(results),
    "### Server resources",
    resourcesTable(results),
    "### Cross pairs (user path)",
    crossTable(results),
    scenarioTables(results),
    errorsSection(results),
  ]
    .filter((s) => s !== "")
    .join("\n\n");
}

// `node dist/benchmarks/report.js [results.json]`
if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? new URL("../../benchmarks/results.json", import.meta.url).pathname;
  console.log(fullReport(JSON.parse(readFileSync(file, "utf8")) as Results));
}
