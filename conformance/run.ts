/**
 * `npm run conformance`: pits every interop server in IMPLEMENTATIONS against every
 * interop client in it, for every case, plaintext, TLS and mutual TLS with a bearer
 * token (a subset of the cases), and prints one row per run and a summary
 * (`K skipped`, then `N passed, M failed`). Exit code 1 if any failed.
 *
 *   node dist/conformance/run.js [--peers a,b] [--servers a,b] [--clients a,b]
 *                                [--cases a,b] [--tls all|both|on|off|mtls]
 *                                [--timeout SECONDS] [--jobs N]
 *
 * Each server runs as its own process on a free loopback port; the runner waits until
 * it accepts connections, runs the clients against it (one process per case, each with
 * a timeout) and stops it; every process it started is killed on the way out, even
 * when the runner itself fails or is interrupted. See conformance/README.md.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { CASES, isCaseName, MTLS_ONLY_CASES, type CaseName } from "./lib/cases.js";
import { FlagError, parseFlags } from "./lib/flags.js";
import { CONFORMANCE_DIR, REPO_ROOT } from "./lib/paths.js";

// ---------------------------------------------------------------------------
// The implementations

interface Implementation {
  name: string;
  /** argv of the interop client; the runner appends the standard flags. */
  client: readonly string[];
  /** argv of the interop server; the runner appends --port and --use_tls. */
  server: readonly string[];
  /**
   * Server features this implementation cannot provide, by the case that needs them:
   * those cases are SKIP against this server, whatever the client.
   */
  serverCannot?: Partial<Record<CaseName, string>>;
  /** Why this implementation cannot run here, or undefined when it can. */
  unavailable?: () => string | undefined;
  /** When unavailable: true leaves it out with a note, false fails the run. */
  optional?: boolean;
  /**
   * The implementation under test (ours). Only peers may skip: a SKIP from its own
   * client counts as a failure.
   */
  underTest?: boolean;
}

const PYTHON = process.env["CONFORMANCE_PYTHON"] || "/usr/bin/python3";
const DIST_CONFORMANCE = join(REPO_ROOT, "dist", "conformance");

const COMPRESSED_REQUEST_CASES = ["client_compressed_unary", "client_compressed_streaming"] as const;
const COMPRESSED_RESPONSE_CASES = ["server_compressed_unary", "server_compressed_streaming"] as const;

function cannot(cases: readonly CaseName[], reason: string): Partial<Record<CaseName, string>> {
  return Object.fromEntries(cases.map((c) => [c, reason]));
}

const IMPLEMENTATIONS: readonly Implementation[] = [
  {
    name: "async-grpc",
    client: [join(CONFORMANCE_DIR, "bin", "interop-client")],
    server: [join(CONFORMANCE_DIR, "bin", "interop-server")],
    underTest: true,
    unavailable: () => {
      const missing = ["interop-client.js", "interop-server.js"].filter((f) => !existsSync(join(DIST_CONFORMANCE, f)));
      return missing.length > 0 ? `not built: dist/conformance/${missing.join(", ")} missing` : undefined;
    },
  },
  {
    name: "grpc-js",
    client: [process.execPath, join(DIST_CONFORMANCE, "peers", "grpc-js", "client.js")],
    server: [process.execPath, join(DIST_CONFORMANCE, "peers", "grpc-js", "server.js")],
    serverCannot: {
      ...cannot(COMPRESSED_REQUEST_CASES, "grpc-js server cannot tell whether a request message was compressed"),
      ...cannot(COMPRESSED_RESPONSE_CASES, "grpc-js server cannot compress responses"),
    },
    unavailable: () =>
      existsSync(join(DIST_CONFORMANCE, "peers", "grpc-js", "server.js")) ? undefined : "not built (run tsc -p .)",
  },
  {
    name: "python",
    client: [PYTHON, join(CONFORMANCE_DIR, "peers", "python", "interop_client.py")],
    server: [PYTHON, join(CONFORMANCE_DIR, "peers", "python", "interop_server.py")],
    serverCannot: cannot(
      COMPRESSED_REQUEST_CASES,
      "grpcio server cannot tell whether a request message was compressed",
    ),
    unavailable: () => {
      const probe = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { encoding: "utf8" });
      if (probe.error) return `${PYTHON}: ${probe.error.message}`;
      return probe.status === 0 ? undefined : `${PYTHON} cannot import grpc (apt-get install python3-grpcio): ${lastLine(probe.stderr)}`;
    },
  },
];

// concurrent_large_unary moves 1000 x 270 KB each way: a few seconds alone, but several
// times that when other suites share the machine's two CPUs.
const CASE_TIMEOUT_FACTOR: Partial<Record<CaseName, number>> = { concurrent_large_unary: 4 };

/**
 * Flags the runner adds to some cases so that the whole matrix stays quick (the
 * clients' defaults are the interop descriptions'): the soak cases run their default
 * 10 iterations over 2 concurrent workers (default 1); long_lived_channel makes 3 calls
 * 0.5 s apart (default 10 calls 10 s apart). concurrent_large_unary runs the
 * descriptions' 1000 calls.
 */
const CASE_FLAGS: Partial<Record<CaseName, readonly string[]>> = {
  rpc_soak: ["--soak_iterations=10", "--soak_num_threads=2"],
  channel_soak: ["--soak_iterations=10", "--soak_num_threads=2"],
  long_lived_channel: ["--soak_iterations=3", "--iteration_interval=0.5"],
};

/**
 * How a server is secured: plaintext, TLS, or "mtls": TLS where the server requires a
 * client certificate from the test CA and the bearer token MTLS_TOKEN on every call
 * (call credentials), and clients present both.
 */
type Security = "plaintext" | "tls" | "mtls";
const MTLS_TOKEN = "async-grpc-interop-token";

/** The cases run under mtls: the call kinds, metadata and status beside the token, and mtls_token. */
const MTLS_CASES: readonly CaseName[] = [
  "empty_unary",
  "large_unary",
  "client_streaming",
  "server_streaming",
  "ping_pong",
  "custom_metadata",
  "status_code_and_message",
  "mtls_token",
];

function casesFor(security: Security, cases: readonly CaseName[]): CaseName[] {
  return security === "mtls" ? cases.filter((c) => MTLS_CASES.includes(c)) : cases.filter((c) => !MTLS_ONLY_CASES.includes(c));
}

// ---------------------------------------------------------------------------
// Options

interface Options {
  servers: Implementation[];
  clients: Implementation[];
  cases: CaseName[];
  security: Security[];
  timeoutMs: number;
  jobs: number;
}

const USAGE = `usage: node dist/conformance/run.js [options]
  --peers a,b       implementations to use on both sides (default: all; ${IMPLEMENTATIONS.map((i) => i.name).join(", ")})
  --only a,b        same as --peers
  --servers a,b     implementations to use as servers (default: --peers)
  --clients a,b     implementations to use as clients (default: --peers)
  --cases a,b       cases to run (default: all ${CASES.length})
  --tls MODE        all (plaintext, TLS, mTLS + token), both (plaintext and TLS), on (TLS),
                    off (plaintext) or mtls (default: all)
  --timeout S       per-case timeout in seconds (default: 20)
  --jobs N          clients run at once against a server (default: 2)`;

function parseOptions(argv: readonly string[], notes: string[], failures: Row[]): Options | undefined {
  const f = parseFlags(argv, {
    peers: "string",
    only: "string",
    servers: "string",
    clients: "string",
    cases: "string",
    tls: "string",
    timeout: "string",
    jobs: "string",
    help: "boolean",
  });
  if (f.help) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  const list = (value: string | undefined) => value?.split(",").map((s) => s.trim()).filter(Boolean);
  const peers = list(f.peers ?? f.only);
  const explicit = new Set([...(peers ?? []), ...(list(f.servers) ?? []), ...(list(f.clients) ?? [])]);
  for (const name of explicit) {
    if (!IMPLEMENTATIONS.some((i) => i.name === name)) throw new FlagError(`unknown implementation ${JSON.stringify(name)}`);
  }

  // Which implementations can run here.
  const usable = new Map<string, Implementation>();
  for (const impl of IMPLEMENTATIONS) {
    if (peers && !explicit.has(impl.name)) continue;
    const why = impl.unavailable?.();
    if (why === undefined) usable.set(impl.name, impl);
    else if (impl.optional && !explicit.has(impl.name)) notes.push(`note: ${impl.name} left out: ${why}`);
    else failures.push({ server: impl.name, client: "*", tls: "*", testCase: "*", result: "FAIL", reason: `unavailable: ${why}` });
  }
  const pick = (names: string[] | undefined) =>
    [...usable.values()].filter((impl) => (names ?? peers ?? [impl.name]).includes(impl.name));

  const cases = list(f.cases) ?? [...CASES];
  for (const c of cases) if (!isCaseName(c)) throw new FlagError(`unknown case ${JSON.stringify(c)}`);

  const security = ({ all: ["plaintext", "tls", "mtls"], both: ["plaintext", "tls"], on: ["tls"], off: ["plaintext"], mtls: ["mtls"] } as Record<string, Security[]>)[
    f.tls ?? "all"
  ];
  if (!security) throw new FlagError(`--tls must be all, both, on, off or mtls`);
  const timeoutMs = Number(f.timeout ?? "20") * 1000;
  const jobs = Number(f.jobs ?? "2");
  if (!(timeoutMs > 0)) throw new FlagError("--timeout must be a positive number of seconds");
  if (!Number.isInteger(jobs) || jobs < 1) throw new FlagError("--jobs must be a positive integer");

  return {
    servers: pick(list(f.servers)),
    clients: pick(list(f.clients)),
    cases: cases as CaseName[],
    security,
    timeoutMs,
    jobs,
  };
}

// ---------------------------------------------------------------------------
// Processes: every child is tracked and killed when the runner goes away

const children = new Set<ChildProcess>();

function start(argv: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const [command, ...args] = argv;
  const child = spawn(command!, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.on("error", () => children.delete(child));
  return child;
}

function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAll();
    process.stderr.write(`\nconformance: interrupted by ${signal}\n`);
    process.exit(1);
  });
}

/** Keeps the last lines a process wrote, for failure reasons. */
class OutputTail {
  private text = "";
  constructor(...streams: (NodeJS.ReadableStream | null)[]) {
    for (const stream of streams) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => (this.text = (this.text + chunk).slice(-8192)));
    }
  }
  get lines(): string[] {
    return this.text.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await done;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until the server accepts connections; a reason string if it never does. */
async function waitUntilListening(child: ChildProcess, port: number, output: OutputTail): Promise<string | undefined> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `server exited (${child.exitCode ?? child.signalCode}) before listening: ${output.lines.slice(-3).join(" | ")}`;
    }
    if (await canConnect(port)) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return `server not listening on port ${port} after 15 s: ${output.lines.slice(-3).join(" | ")}`;
}

// ---------------------------------------------------------------------------
// Running

type Result = "PASS" | "FAIL" | "SKIP";

interface Row {
  server: string;
  client: string;
  tls: string;
  testCase: string;
  result: Result;
  reason: string;
  /** How long the client ran, if it ran. */
  ms?: number;
  /** The last lines the client wrote, kept for failures. */
  output?: string[];
}

function lastLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "";
}

/** Runs one client for one case; the verdict, and the client's last lines of output. */
async function runClient(
  client: Implementation,
  testCase: CaseName,
  port: number,
  security: Security,
  timeoutMs: number,
): Promise<{ result: Result; reason: string; output: string[] }> {
  const tls = security !== "plaintext";
  const flags = [`--server_host=127.0.0.1`, `--server_port=${port}`, `--test_case=${testCase}`, `--use_tls=${tls}`];
  if (tls) flags.push("--use_test_ca=true", "--server_host_override=foo.test.google.fr");
  if (security === "mtls") flags.push("--use_client_cert=true", `--bearer_token=${MTLS_TOKEN}`);
  flags.push(...(CASE_FLAGS[testCase] ?? []));
  const child = start([...client.client, ...flags], { INTEROP_CLIENT_TIMEOUT_S: String(timeoutMs / 1000) });
  const output = new OutputTail(child.stdout, child.stderr);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const { code, signal, error } = await exited(child);
  clearTimeout(timer);
  const lines = output.lines;
  const verdict = (result: Result, reason: string) => ({ result, reason, output: lines });
  if (error) return verdict("FAIL", `cannot start client: ${error.message}`);
  if (timedOut) return verdict("FAIL", `timed out after ${timeoutMs / 1000} s`);
  if (code === 0) return verdict("PASS", "");
  if (code === 3) {
    const reason = lines.find((l) => l.startsWith("SKIP:"))?.slice(5).trim() ?? "client skipped (no reason given)";
    return client.underTest
      ? verdict("FAIL", `${client.name} skipped, but only peers may skip: ${reason}`)
      : verdict("SKIP", `client: ${reason}`);
  }
  const failLine = lines.find((l) => l.startsWith("FAIL:"));
  const reason = failLine?.slice(5).trim() ?? lines.at(-1) ?? "";
  return verdict("FAIL", `${signal ? `killed by ${signal}` : `exit ${code}`}${reason ? `: ${reason}` : ""}`);
}

/** Runs `tasks` with at most `jobs` at once; `emit` sees the results in task order. */
async function pool<T>(tasks: (() => Promise<T>)[], jobs: number, emit: (value: T) => void): Promise<void> {
  const results: (T | undefined)[] = new Array(tasks.length);
  const done: boolean[] = new Array(tasks.length).fill(false);
  let nextTask = 0;
  let nextEmit = 0;
  const worker = async () => {
    while (nextTask < tasks.length) {
      const i = nextTask++;
      results[i] = await tasks[i]!();
      done[i] = true;
      while (nextEmit < tasks.length && done[nextEmit]) emit(results[nextEmit++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
}

class Table {
  readonly rows: Row[] = [];
  private static readonly widths = [10, 10, 9, 28, 6, 6];

  header(): void {
    this.line(["SERVER", "CLIENT", "TLS", "CASE", "RESULT", "TIME", "REASON"]);
  }

  add(row: Row): void {
    this.rows.push(row);
    const time = row.ms === undefined ? "-" : `${(row.ms / 1000).toFixed(1)}s`;
    this.line([row.server, row.client, row.tls, row.testCase, row.result, time, row.reason]);
  }

  private line(cells: string[]): void {
    const padded = cells.map((cell, i) => (i < Table.widths.length ? cell.padEnd(Table.widths[i]!) : cell));
    process.stdout.write(`${padded.join(" ").trimEnd()}\n`);
  }

  count(result: Result): number {
    return this.rows.filter((r) => r.result === result).length;
  }
}

async function runServer(server: Implementation, security: Security, options: Options, table: Table): Promise<void> {
  const tlsName = security;
  const row = (client: Implementation, testCase: CaseName, result: Result, reason: string): Row => ({
    server: server.name,
    client: client.name,
    tls: tlsName,
    testCase,
    result,
    reason,
  });
  const pairs = options.clients.flatMap((client) => casesFor(security, options.cases).map((testCase) => ({ client, testCase })));
  if (pairs.length === 0) return;

  const port = await freePort();
  const serverFlags = [`--port=${port}`, `--use_tls=${security !== "plaintext"}`];
  if (security === "mtls") serverFlags.push("--require_client_auth=true", `--bearer_token=${MTLS_TOKEN}`);
  const child = start([...server.server, ...serverFlags]);
  const output = new OutputTail(child.stdout, child.stderr);
  try {
    const notListening = await waitUntilListening(child, port, output);
    const tasks = pairs.map(({ client, testCase }) => async (): Promise<Row> => {
      const serverCannot = server.serverCannot?.[testCase];
      if (serverCannot !== undefined) return row(client, testCase, "SKIP", `server: ${serverCannot}`);
      if (notListening !== undefined) return row(client, testCase, "FAIL", notListening);
      if (child.exitCode !== null || child.signalCode !== null) {
        return row(client, testCase, "FAIL", `server died (${child.exitCode ?? child.signalCode}): ${output.lines.at(-1) ?? ""}`);
      }
      const began = Date.now();
      const timeoutMs = options.timeoutMs * (CASE_TIMEOUT_FACTOR[testCase] ?? 1);
      const { result, reason, output: clientOutput } = await runClient(client, testCase, port, security, timeoutMs);
      return { ...row(client, testCase, result, reason), ms: Date.now() - began, output: clientOutput };
    });
    await pool(tasks, options.jobs, (r) => table.add(r));
  } finally {
    await stop(child);
  }
}

async function main(): Promise<number> {
  const notes: string[] = [];
  const unavailable: Row[] = [];
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2), notes, unavailable);
  } catch (err) {
    process.stderr.write(`conformance: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!options) return 0;
  for (const note of notes) process.stdout.write(`${note}\n`);

  const started = Date.now();
  const table = new Table();
  table.header();
  for (const row of unavailable) table.add(row);
  for (const server of options.servers) {
    for (const security of options.security) await runServer(server, security, options, table);
  }

  const failures = table.rows.filter((r) => r.result === "FAIL" && r.output && r.output.length > 0);
  if (failures.length > 0) process.stdout.write("\nOutput of the failed clients (last lines):\n");
  for (const r of failures) {
    process.stdout.write(`\n--- ${r.server} server, ${r.client} client, ${r.tls}, ${r.testCase}\n`);
    for (const line of r.output!.slice(-20)) process.stdout.write(`    ${line}\n`);
  }

  const passed = table.count("PASS");
  const failed = table.count("FAIL");
  const skipped = table.count("SKIP");
  process.stdout.write(`\n${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${skipped} skipped\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
