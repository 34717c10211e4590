// Runs the companions' grpcio peers (test/peers/python/*.py) with Debian's python3
// (python3-grpcio). A peer server prints "PORT <n>" and serves until its stdin closes.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const PYTHON = process.env["CONFORMANCE_PYTHON"] || "/usr/bin/python3";
// This file runs as dist/test/peers/python.js; the scripts are read from the repository.
const DIR = fileURLToPath(new URL("../../../test/peers/python/", import.meta.url));

export interface PythonServer {
  port: number;
  /** Sends one line to the peer's stdin (a command, for peers that take them). */
  send(line: string): void;
  /** Closes its stdin and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `script` (in test/peers/python) with `args`; resolves once it printed its port. */
export function startPythonServer(script: string, args: readonly string[] = []): Promise<PythonServer> {
  const child = spawn(PYTHON, [DIR + script, ...args], { cwd: DIR, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`${script} printed no port in 20 s: ${stderr}`)), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    child.once("exit", (code) => fail(new Error(`${script} exited (${code}) before printing its port: ${stderr}`)));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const match = /PORT (\d+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve({ port: Number(match[1]), send: (line) => child.stdin!.write(line + "\n"), stop: () => stopChild(child) });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end();
  });
}

/** Runs `script` to completion and returns its stdout. */
export async function runPython(script: string, args: readonly string[] = []): Promise<string> {
  const { stdout } = await run(PYTHON, [DIR + script, ...args], { cwd: DIR, timeout: 30_000 });
  return stdout;
}
