// The route guide example (examples/route-guide) end to end: the demo program itself,
// client and server over a real port, and the README that quotes them. Its servicer and
// its client functions are unit-tested with async-grpc/testing in
// examples-route-guide-server.test.ts and examples-route-guide-client.test.ts.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assertNoLeaks } from "./helpers.js";

// This file runs as dist/test/examples.test.js; sources and the README are read from the repository.
const repo = new URL("../../", import.meta.url);
const readme = (): string => readFileSync(new URL("README.md", repo), "utf8");

const test = suite("examples/route-guide");
test.after(async () => {
  await assertNoLeaks();
});

test("the README starts with the two commands: npm install && npm run demo, then npm test", () => {
  const text = readme();
  assert.ok(text.startsWith("```"), "the README's first line opens a code block");
  const blocks = [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());
  assert.is(blocks[0], "npm install && npm run demo");
  assert.is(blocks[1], "npm test");
});

test("every snippet the README copies from examples/route-guide matches its source", () => {
  const text = readme();
  const snippets = regions(new URL("examples/route-guide/", repo));
  assert.ok(snippets.size >= 8, `found only ${snippets.size} #region snippets`);
  for (const [name, code] of snippets) {
    assert.ok(text.includes(code), `README lacks the current text of the "${name}" snippet:\n${code}`);
  }
});

test("the demo (npm run demo) runs to the end and prints every step", async () => {
  const demo = fileURLToPath(new URL("../examples/route-guide/demo.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [demo], { timeout: 20_000 }, (err, out, errOut) => {
      if (err) reject(new Error(`demo failed: ${err.message}\n${out}\n${errOut}`));
      else resolve(out);
    });
  });
  for (const expected of [
    "GetFeature (unary)",
    'Found "Cobbler\'s Row Historic District',
    "RpcError INVALID_ARGUMENT",
    "5 features, status OK",
    "Summary: 5 points, 3 known features",
    '<- "Third message"',
    "RpcError DEADLINE_EXCEEDED",
    "RpcError CANCELLED after 3 features",
    "handler saw context.signal.aborted === true after",
    "(reason: CANCELLED), and stopped",
    "Channel closed, server stopped. Done.",
  ]) {
    assert.ok(stdout.includes(expected), `the demo's output lacks ${JSON.stringify(expected)}:\n${stdout}`);
  }
});

test.run();

/**
 * The `// #region name` ... `// #endregion` blocks of the .ts files in `folder`,
 * dedented; nested regions are part of their parent, without the marker lines.
 */
function regions(folder: URL): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".ts")).sort()) {
    const open: { name: string; lines: string[] }[] = [];
    for (const line of readFileSync(new URL(file, folder), "utf8").split("\n")) {
      const start = /^\s*\/\/ #region (\S+)\s*$/.exec(line);
      if (start) {
        open.push({ name: start[1]!, lines: [] });
      } else if (/^\s*\/\/ #endregion\s*$/.test(line)) {
        const region = open.pop();
        assert.ok(region, `${file}: #endregion without #region`);
        found.set(region.name, dedent(region.lines));
      } else {
        for (const region of open) region.lines.push(line);
      }
    }
    assert.is(open.length, 0, `${file}: unclosed #region`);
  }
  return found;
}

function dedent(lines: readonly string[]): string {
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut).trimEnd()).join("\n");
}
