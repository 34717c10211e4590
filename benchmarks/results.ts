// The shape of results.json, shared by run.ts (which fills it) and report.ts.
import type { Impl } from "./protocol.js";

/** One measured run of one scenario. */
export interface RunRecord {
  round: number;
  /**
   * The client's figures (keyed by MetricSpec.key) plus, from the orchestrator:
   * serverCpuUsPerOp, clientCpuUsPerOp (CPU µs per call, or per message in the
   * streaming scenarios, warm-up included), serverSysUsPerOp and clientSysUsPerOp (their
   * kernel part), serverWindowPeakRssMb and loadAverage1m
   * (the machine's 1-minute load average right after the run).
   */
  metrics: Record<string, number>;
  totalOps: number;
}

export interface ScenarioRecord {
  runs: RunRecord[];
  errors: string[];
  /** Per-metric median over the runs. */
  median: Record<string, number>;
}

/** A server implementation measured with a client implementation. */
export interface PairResult {
  label: string;
  server: Impl;
  client: Impl;
  cross: boolean;
  scenarios: Record<string, ScenarioRecord>;
  /** The server process's peak RSS (getrusage maxrss) in each round, in MB. */
  serverPeakRssMb: number[];
  medianServerPeakRssMb: number;
}

export interface Meta {
  /**
   * 2 since the user path is measured: `async-grpc`/`grpc-js` are generated clients
   * with protobuf messages and the raw-bytes ones are `-bytes`. Absent in older files,
   * where `async-grpc`/`grpc-js` were raw bytes (report.ts's upgrade() renames them).
   */
  layout?: 2;
  date: string;
  node: string;
  nproc: number;
  cpuModel: string;
  platform: string;
  gitCommit: string;
  quick: boolean;
  rounds: number;
  warmupMs: number;
  durationMs: number;
  pinned: boolean;
  profile: boolean;
  argv: string[];
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  wallSeconds: number;
}

export interface Results {
  meta: Meta;
  pairs: PairResult[];
}
