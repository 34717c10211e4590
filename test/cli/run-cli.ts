// Runs the `async-grpc` bin as a child process, as a user would: its exit code, stdout
// and stderr, with stdin given whole or written piece by piece.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../../bin/async-grpc.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running CLI: write to its stdin, wait for stdout lines, then for its end. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once stdout holds at least `n` lines (rejects if the process ends first). */
  lines(n: number): Promise<string[]>;
  done: Promise<CliResult>;
}

export function startCli(args: readonly string[]): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, GRPC_VERBOSITY: "NONE" } });
  let stdout = "";
  let stderr = "";
  let waiters: (() => void)[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    for (const w of waiters) w();
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // Bounded: a CLI that hangs fails its test instead of the suite.
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      for (const w of waiters) w();
      waiters = [];
      resolve({ code, stdout, stderr });
    }),
  );
  const lines = (n: number) =>
    new Promise<string[]>((resolve, reject) => {
      const check = () => {
        const got = stdout.split("\n").slice(0, -1);
        if (got.length >= n) resolve(got);
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`the CLI ended with ${got.length} lines: ${stderr}`));
        else return false;
        return true;
      };
      if (!check()) waiters.push(() => void check());
    });
  return { child, lines, done };
}

/** Runs the CLI to its end with `stdin` (closed at once when not given). */
export async function runCli(args: readonly string[], stdin?: string): Promise<CliResult> {
  const running = startCli(args);
  running.child.stdin.on("error", () => {});
  running.child.stdin.end(stdin ?? "");
  return running.done;
}
