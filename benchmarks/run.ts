// The benchmark orchestrator: `npm run bench [-- options]` (see README.md).
//
// For each round, for each (server, client) pair, one implementation at a time: a
// server process pinned to CPU 0 and a client process pinned to CPU 1 (taskset), then
// every scenario in turn; the orchestrator reads the server's CPU time and RSS around
// each scenario over IPC. Every wait is bounded, a failed scenario restarts both
// processes, and every child is killed when the run ends, however it ends.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fullReport } from "./report.js";
import {
  BLOCKING_SCENARIOS,
  OTEL_SCENARIOS,
  IMPLEMENTATIONS,
  isImpl,
  SCENARIOS,
  scenarioByName,
  type FromClient,
  type FromServer,
  type Impl,
  type ServerUsage,
} from "./protocol.js";
import type { Meta, PairResult, Results, RunRecord, ScenarioRecord } from "./results.js";
import { median } from "./stats.js";

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/benchmarks
const REPO = resolve(HERE, "../..");
const START_TIMEOUT_MS = 20_000;
const USAGE_TIMEOUT_MS = 10_000;
const SCENARIO_SLACK_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

// ---- options -------------------------------------------------------------------

interface Options {
  quick: boolean;
  rounds: number;
  warmupMs: number;
  durationMs: number;
  impls: Impl[];
  scenarios: string[];
  cross: boolean;
  pin: boolean;
  profile: boolean;
  out: string;
}

const USAGE = `usage: npm run bench -- [options]
  --quick               2 rounds, 300 ms warm-up + 1 s per scenario (default: 3 rounds, 1 s + 2 s)
  --rounds N            rounds (each scenario is measured once per round; medians are reported)
  --warmup-ms N         warm-up per scenario
  --duration-ms N       measured time per scenario
  --impl a,b            implementations (${IMPLEMENTATIONS.join(", ")})
  --scenario a,b        scenarios (${SCENARIOS.map((s) => s.name).join(", ")})
  --no-cross            skip the cross pairs (async-grpc client / grpc-js server and the reverse)
  --no-pin              do not pin server and client to CPUs 0 and 1
  --profile             run servers and clients under --cpu-prof, profiles in benchmarks/profiles/
                        (use with --impl and --scenario; see profile-summary.ts)
  --out FILE            results file (default benchmarks/results.json)`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    rounds: 3,
    warmupMs: 1000,
    durationMs: 2000,
    impls: [...IMPLEMENTATIONS],
    scenarios: SCENARIOS.map((s) => s.name),
    cross: true,
    pin: true,
    profile: false,
    out: resolve(REPO, "benchmarks/results.json"),
  };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
      return n;
    };
    explicit.add(flag);
    switch (flag) {
      case "--quick":
        o.quick = true;
        break;
      case "--rounds":
        o.rounds = int();
        break;
      case "--warmup-ms":
        o.warmupMs = int();
        break;
      case "--duration-ms":
        o.durationMs = int();
        break;
      case "--impl":
        o.impls = value()
          .split(",")
          .map((s) => {
            if (!isImpl(s)) throw new Error(`unknown implementation ${s}; known: ${IMPLEMENTATIONS.join(", ")}`);
            return s;
          });
        break;
      case "--scenario":
        o.scenarios = value()
          .split(",")
          .map((s) => scenarioByName(s).name);
        break;
      case "--no-cross":
        o.cross = false;
        break;
      case "--no-pin":
        o.pin = false;
        break;
      case "--profile":
        o.profile = true;
        break;
      case "--out":
        o.out = resolve(process.cwd(), value());
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (o.quick) {
    if (!explicit.has("--rounds")) o.rounds = 2;
    if (!explicit.has("--warmup-ms")) o.warmupMs = 300;
    if (!explicit.has("--duration-ms")) o.durationMs = 1000;
  }
  return o;
}

// ---- child processes -------------------------------------------------------------

const live = new Set<Worker>();

function killAll(): void {
  for (const w of live) w.kill();
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** A server or client process with a bounded wait for each message. */
class Worker {
  private readonly child: ChildProcess;
  private readonly inbox: unknown[] = [];
  private waiter: ((m: unknown) => void) | undefined;
  private exitError: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    impl: Impl,
    cpu: number | undefined,
    nodeFlags: string[],
  ) {
    const args = [...nodeFlags, resolve(HERE, script), impl];
    const [command, argv] = cpu === undefined ? [process.execPath, args] : ["taskset", ["-c", String(cpu), process.execPath, ...args]];
    this.child = spawn(command, argv, {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, GRPC_VERBOSITY: process.env.GRPC_VERBOSITY ?? "ERROR" },
    });
    live.add(this);
    this.child.on("message", (m: unknown) => {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w(m);
      } else this.inbox.push(m);
    });
    this.exited = new Promise((resolveExit) => {
      const onGone = (why: string): void => {
        live.delete(this);
        this.exitError ??= new Error(`${this.name} ${why}`);
        const w = this.waiter;
        this.waiter = undefined;
        w?.(this.exitError);
        resolveExit();
      };
      this.child.on("exit", (code, signal) => onGone(`exited (code ${code}, signal ${signal})`));
      this.child.on("error", (err) => onGone(`failed to start: ${err.message}`));
    });
  }

  send(message: unknown): void {
    if (this.exitError) throw this.exitError;
    this.child.send(message as object);
  }

  /** The next message from the process; rejects on timeout or exit. */
  receive<T>(timeoutMs: number, what: string): Promise<T> {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift() as T);
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<T>((resolveMessage, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolveMessage(m as T);
      };
    });
  }

  /** Asks the process to exit (so that --cpu-prof writes its profile), then kills it. */
  async stop(): Promise<void> {
    if (!live.has(this)) return;
    try {
      this.send({ type: "stop" });
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.kill(), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

// ---- pairs and rounds ------------------------------------------------------------

interface Pair {
  label: string;
  server: Impl;
  client: Impl;
  cross: boolean;
  scenarios: string[];
}

const CROSS_SCENARIOS = ["unary-latency", "unary-throughput"];

function pairsFor(o: Options): Pair[] {
  const pairs: Pair[] = o.impls
    .map((impl) => ({
      label: impl,
      server: impl,
      client: impl,
      cross: false,
      scenarios:
        impl === "async-grpc-blocking"
          ? o.scenarios.filter((s) => BLOCKING_SCENARIOS.includes(s))
          : impl === "async-grpc-otel"
            ? o.scenarios.filter((s) => OTEL_SCENARIOS.includes(s))
            : o.scenarios,
    }))
    .filter((pair) => pair.scenarios.length > 0);
  const crossScenarios = o.scenarios.filter((s) => CROSS_SCENARIOS.includes(s));
  // Cross pairs connect one implementation's client to another's server over the
  // network: async-grpc-inprocess has no server there (its client process serves
  // itself), so it is never one of them.
  if (o.cross && o.impls.includes("async-grpc") && o.impls.includes("grpc-js") && crossScenarios.length > 0) {
    pairs.push(
      { label: "async-grpc client → grpc-js server", server: "grpc-js", client: "async-grpc", cross: true, scenarios: crossScenarios },
      { label: "grpc-js client → async-grpc server", server: "async-grpc", client: "grpc-js", cross: true, scenarios: crossScenarios },
    );
  }
  return pairs;
}

function profileFlags(o: Options, impl: Impl, role: string, pair: Pair, round: number): string[] {
  if (!o.profile) return [];
  const dir = resolve(REPO, "benchmarks/profiles");
  mkdirSync(dir, { recursive: true });
  const tag = `${o.scenarios.length === SCENARIOS.length ? "all" : o.scenarios.join("+")}${pair.cross ? "-cross" : ""}`;
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${impl}-${role}-${tag}-round${round}-${Date.now()}.cpuprofile`];
}

interface Processes {
  server: Worker;
  client: Worker;
  port: number;
  peakRssKb: number;
}

async function startPair(o: Options, pair: Pair, round: number, pinned: boolean): Promise<Processes> {
  const server = new Worker(`${pair.server} server`, "server.js", pair.server, pinned ? 0 : undefined, profileFlags(o, pair.server, "server", pair, round));
  const ready = await server.receive<FromServer>(START_TIMEOUT_MS, "ready message").catch(async (err: unknown) => {
    server.kill();
    throw err;
  });
  if (ready.type !== "ready") {
    server.kill();
    throw new Error(`${pair.server} server: ${ready.type === "error" ? ready.message : `unexpected ${ready.type}`}`);
  }
  const client = new Worker(`${pair.client} client`, "client.js", pair.client, pinned ? 1 : undefined, profileFlags(o, pair.client, "client", pair, round));
  try {
    const m = await client.receive<FromClient>(START_TIMEOUT_MS, "ready message");
    if (m.type !== "ready") throw new Error(`${pair.client} client: unexpected ${m.type}`);
  } catch (err) {
    server.kill();
    client.kill();
    throw err;
  }
  return { server, client, port: ready.port, peakRssKb: 0 };
}

async function usage(p: Processes): Promise<ServerUsage> {
  p.server.send({ type: "usage" });
  const m = await p.server.receive<FromServer>(USAGE_TIMEOUT_MS, "usage report");
  if (m.type !== "usage") throw new Error(`${p.server.name}: expected a usage report, got ${m.type}`);
  p.peakRssKb = Math.max(p.peakRssKb, m.maxRssKb);
  return m;
}

async function runOne(o: Options, p: Processes, scenario: string, round: number): Promise<RunRecord> {
  const before = await usage(p);
  p.client.send({ type: "run", scenario, port: p.port, warmupMs: o.warmupMs, durationMs: o.durationMs });
  const reply = await p.client.receive<FromClient>(o.warmupMs + o.durationMs + SCENARIO_SLACK_MS, `result of ${scenario}`);
  const after = await usage(p);
  if (reply.type === "error") throw new Error(reply.message);
  if (reply.type !== "result") throw new Error(`${p.client.name}: unexpected ${reply.type}`);
  const { metrics, totalOps, clientCpuUs, clientSysUs } = reply.result;
  const serverCpuUs = after.cpuUserUs + after.cpuSystemUs - (before.cpuUserUs + before.cpuSystemUs);
  const serverSysUs = after.cpuSystemUs - before.cpuSystemUs;
  return {
    round,
    totalOps,
    metrics: {
      ...metrics,
      serverCpuUsPerOp: serverCpuUs / Math.max(1, totalOps),
      clientCpuUsPerOp: clientCpuUs / Math.max(1, totalOps),
      serverSysUsPerOp: serverSysUs / Math.max(1, totalOps),
      clientSysUsPerOp: clientSysUs / Math.max(1, totalOps),
      serverWindowPeakRssMb: after.windowPeakRssBytes / 1e6,
      // How busy the machine was (other people's work shows up here).
      loadAverage1m: os.loadavg()[0]!,
    },
  };
}

function describe(pair: Pair, scenario: string, run: RunRecord): string {
  const spec = scenarioByName(scenario);
  const v = run.metrics[spec.primary.key];
  return `${pair.label} / ${scenario}: ${v === undefined ? "?" : Math.round(v * 10) / 10} ${spec.primary.unit}`;
}

async function runPairRound(o: Options, pair: Pair, result: PairResult, round: number, pinned: boolean): Promise<void> {
  let p: Processes | undefined;
  let peakRssKb = 0;
  const drop = async (): Promise<void> => {
    if (!p) return;
    peakRssKb = Math.max(peakRssKb, p.peakRssKb);
    const { server, client } = p;
    p = undefined;
    await Promise.all([client.stop(), server.stop()]);
  };
  for (const scenario of pair.scenarios) {
    const rec = result.scenarios[scenario]!;
    try {
      p ??= await startPair(o, pair, round, pinned);
      const run = await runOne(o, p, scenario, round);
      rec.runs.push(run);
      console.log(`  [round ${round}/${o.rounds}] ${describe(pair, scenario, run)}`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      rec.errors.push(`round ${round}: ${message}`);
      console.log(`  [round ${round}/${o.rounds}] ${pair.label} / ${scenario}: FAILED: ${message.split("\n")[0]}`);
      if (p) {
        p.client.kill();
        p.server.kill();
        await drop();
      }
    }
  }
  await drop();
  if (peakRssKb > 0) result.serverPeakRssMb.push((peakRssKb * 1024) / 1e6);
}

// ---- the run ---------------------------------------------------------------------

function machine(): { cpuModel: string; nproc: number; gitCommit: string } {
  let cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux
  }
  const git = spawnSync("git", ["-C", REPO, "describe", "--always", "--dirty"], { encoding: "utf8" });
  return { cpuModel, nproc: os.availableParallelism(), gitCommit: git.status === 0 ? git.stdout.trim() : "unknown" };
}

function canPin(): boolean {
  if (os.availableParallelism() < 2) return false;
  return spawnSync("taskset", ["-c", "1", "true"]).status === 0;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const pinned = o.pin && canPin();
  if (o.pin && !pinned) console.log("note: not pinning (taskset missing or fewer than 2 CPUs)");
  const load = os.loadavg()[0]!;
  if (load > 0.5) console.log(`note: load average is ${load.toFixed(2)} before starting: other work on this machine will add noise`);
  const pairs = pairsFor(o);
  const { cpuModel, nproc, gitCommit } = machine();
  const meta: Meta = {
    layout: 2,
    date: new Date().toISOString(),
    node: process.version,
    nproc,
    cpuModel,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    gitCommit,
    quick: o.quick,
    rounds: o.rounds,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    pinned,
    profile: o.profile,
    argv: process.argv.slice(2),
    loadAverageBefore: os.loadavg(),
    loadAverageAfter: [],
    wallSeconds: 0,
  };
  const results: PairResult[] = pairs.map((pair) => ({
    label: pair.label,
    server: pair.server,
    client: pair.client,
    cross: pair.cross,
    scenarios: Object.fromEntries(pair.scenarios.map((s): [string, ScenarioRecord] => [s, { runs: [], errors: [], median: {} }])),
    serverPeakRssMb: [],
    medianServerPeakRssMb: Number.NaN,
  }));
  console.log(
    `benchmarks: ${pairs.length} pairs × ${o.rounds} rounds, ${o.warmupMs} ms warm-up + ${o.durationMs} ms per scenario, ` +
      `${pinned ? "server on CPU 0, client on CPU 1" : "unpinned"}${o.profile ? ", profiling (--cpu-prof)" : ""}`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    // Rotate the order so that no implementation always runs first (or last).
    for (let k = 0; k < pairs.length; k++) {
      const i = (k + round - 1) % pairs.length;
      await runPairRound(o, pairs[i]!, results[i]!, round, pinned);
    }
  }
  for (const r of results) {
    r.medianServerPeakRssMb = median(r.serverPeakRssMb);
    for (const rec of Object.values(r.scenarios)) {
      const keys = new Set(rec.runs.flatMap((run) => Object.keys(run.metrics)));
      for (const key of keys) rec.median[key] = median(rec.runs.map((run) => run.metrics[key] ?? Number.NaN));
    }
  }
  meta.loadAverageAfter = os.loadavg();
  meta.wallSeconds = (performance.now() - started) / 1000;
  const all: Results = { meta, pairs: results };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`\n${fullReport(all)}\n\nresults written to ${o.out}`);
  const failed = results.some((r) => Object.values(r.scenarios).some((s) => s.runs.length === 0));
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  killAll();
  process.exit(2);
});
