// Turns results.json into the tables printed at the end of a run (Markdown, so that
// they paste into RESULTS.md as they are). `node dist/benchmarks/report.js [file]`
// reprints them from a saved results.json.
import { readFileSync } from "node:fs";
import { IMPLEMENTATIONS, SCENARIOS, type Impl, type MetricSpec, type ScenarioSpec } from "./protocol.js";
import type { PairResult, Results } from "./results.js";
import { formatNumber, formatRatio } from "./stats.js";

const OURS: Impl = "async-grpc";

/** The targets: ours / `against` on the scenario's primary metric. */
interface Target {
  scenario: string;
  against: Impl;
  /** For higher-is-better metrics, ratio >= bound (or > when strict); for lower-is-better, ratio <= bound. */
  bound: number;
  strict?: boolean;
}

export const TARGETS: readonly Target[] = [
  { scenario: "unary-throughput", against: "grpc-js", bound: 2 },
  { scenario: "unary-throughput", against: "raw-http2", bound: 0.9 },
  { scenario: "unary-latency", against: "raw-http2", bound: 1.15 },
  { scenario: "bidi-ping-pong", against: "raw-http2", bound: 0.9 },
  { scenario: "bidi-ping-pong", against: "grpc-js", bound: 1, strict: true },
  { scenario: "server-stream-16b", against: "grpc-js", bound: 3 },
  { scenario: "server-stream-64k", against: "grpc-js", bound: 4 },
  { scenario: "unary-1mib", against: "grpc-js", bound: 4 },
  // "Never slower than connect-node in any scenario."
  ...SCENARIOS.map((s) => ({ scenario: s.name, against: "connect-node" as Impl, bound: 1 })),
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
  return `${op} ${t.bound}x ${t.against}`;
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
      ]);
    }
    out.push(`### ${spec.name}: ${spec.title}\n\n${table(header, rows)}\n\n${ratioLine(results, spec)}`);
  }
  return out.join("\n\n");
}

function ratioLine(results: Results, spec: ScenarioSpec): string {
  const ours = medianOf(selfPair(results, OURS), spec.name, spec.primary.key);
  const parts: string[] = [];
  for (const impl of implsIn(results)) {
    if (impl === OURS) continue;
    const r = ratio(ours, medianOf(selfPair(results, impl), spec.name, spec.primary.key));
    parts.push(`/ ${impl}: **${formatRatio(r)}**`);
  }
  const better = spec.primary.higherIsBetter ? "higher is better" : "lower is better";
  return `async-grpc ${spec.primary.label} ${parts.join(", ")} (${better})`;
}

/** The headline table: primary figure per implementation, ratios, targets. */
export function summaryTable(results: Results): string {
  const impls = implsIn(results);
  const others = impls.filter((i) => i !== OURS);
  const header = ["scenario", "metric", ...impls, ...others.map((i) => `ours / ${i}`), "targets (ours / other)"];
  const rows: string[][] = [];
  for (const spec of scenariosIn(results)) {
    const m = spec.primary;
    const values = impls.map((i) => medianOf(selfPair(results, i), spec.name, m.key));
    const ours = medianOf(selfPair(results, OURS), spec.name, m.key);
    const ratios = others.map((i) => ratio(ours, medianOf(selfPair(results, i), spec.name, m.key)));
    const targets = TARGETS.filter((t) => t.scenario === spec.name && impls.includes(t.against)).map((t) => {
      const met = targetMet(t, m, ratio(ours, medianOf(selfPair(results, t.against), spec.name, m.key)));
      return `${describeTarget(t, m)} ${met === undefined ? "?" : met ? "✅" : "❌"}`;
    });
    rows.push([spec.name, metricName(m), ...values.map(formatNumber), ...ratios.map(formatRatio), targets.join("; ")]);
  }
  return table(header, rows);
}

/** Server peak RSS and CPU per 100k calls. */
export function resourcesTable(results: Results): string {
  const impls = implsIn(results);
  const grpcJs = selfPair(results, "grpc-js");
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
  const ours = selfPair(results, OURS);
  const rss = ratio(ours?.medianServerPeakRssMb, grpcJs?.medianServerPeakRssMb);
  const cpu = ratio(medianOf(ours, "unary-throughput", "serverCpuUsPerOp"), medianOf(grpcJs, "unary-throughput", "serverCpuUsPerOp"));
  const rssMet = rss === undefined ? "?" : rss <= 1 ? "✅" : "❌";
  return (
    `${table(header, rows)}\n\n` +
    `async-grpc / grpc-js: server peak RSS **${formatRatio(rss)}** (target ≤ 1x ${rssMet}), ` +
    `server CPU per call **${formatRatio(cpu)}** (lower is better). Peak RSS is over the whole server process ` +
    `(all scenarios of a round, so the large-message ones dominate), median over rounds.`
  );
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

export function fullReport(results: Results): string {
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
    "### Summary (medians; ratios are async-grpc / other)",
    summaryTable(results),
    "### Server resources",
    resourcesTable(results),
    "### Cross pairs",
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
