// The README's "Command line" transcript, replayed: each `$ npx async-grpc ...` line
// runs (through bash, for its pipes and quotes) against the admin example's server,
// and what it printed (stdout, then stderr) must be what the README shows.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { serve } from "../../examples/admin-services/server.js";
import { assertNoLeaks } from "../helpers.js";
import { BIN } from "./run-cli.js";

const test = suite("cli: the README transcript");
const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

interface Step {
  command: string;
  expected: string;
}

function transcript(): Step[] {
  const readme = readFileSync(README, "utf8");
  const section = readme.split("\n## Command line\n")[1]!;
  const block = section.split("```text\n")[1]!.split("\n```")[0]!;
  const steps: Step[] = [];
  let current: { command: string[]; output: string[] } | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("$ ")) {
      if (current) steps.push({ command: current.command.join("\n"), expected: current.output.join("\n") });
      current = { command: [line.slice(2)], output: [] };
    } else if (current && current.output.length === 0 && /(\\|\|)$/.test(current.command.at(-1)!)) {
      current.command.push(line);
    } else {
      current!.output.push(line);
    }
  }
  if (current) steps.push({ command: current.command.join("\n"), expected: current.output.join("\n") });
  return steps;
}

function bash(script: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("bash", ["-c", script], { env: { ...process.env, GRPC_VERBOSITY: "NONE" }, timeout: 30_000 }, (err, stdout, stderr) =>
      err && err.killed ? reject(err) : resolve(stdout + stderr),
    ),
  );
}

test("every command of the transcript prints what the README shows", async () => {
  const steps = transcript();
  assert.ok(steps.length >= 6, `${steps.length} steps`);
  const { server, port } = await serve("127.0.0.1:0");
  try {
    let previous = "";
    for (const step of steps) {
      const command = step.command.replaceAll("npx async-grpc", `node ${BIN}`).replaceAll("localhost:50051", `127.0.0.1:${port}`);
      // `echo $?` reports the command before it: both run in one shell.
      const script = step.command.startsWith("echo $?") ? `${previous} >/dev/null 2>&1; ${command}` : command;
      const out = await bash(script);
      assert.fixture(out.trimEnd(), step.expected, step.command);
      previous = command;
    }
  } finally {
    await server.stop(null);
  }
  await assertNoLeaks();
});

test.run();
