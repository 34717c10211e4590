// examples/blocking-script: the plain synchronous script runs, and the README quotes it
// as it is.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("examples/blocking-script");
const run = promisify(execFile);
// This file runs as dist/test/compat/; the sources and the README are read from the repository.
const repo = new URL("../../../", import.meta.url);

test("the script runs start to end with the blocking client", async () => {
  const { stdout } = await run(process.execPath, [new URL("dist/examples/blocking-script/script.js", repo).pathname], { timeout: 60_000 });
  assert.equal(stdout.trim().split("\n"), [
    "GetFeature: Cobbler's Row Historic District, Main Street, Pellham, NJ at (40.78390, -74.61440)",
    "GetFeature: INVALID_ARGUMENT: (91.00000, 0.00000) is not a valid location",
    "ListFeatures: 42 features, OK",
    "RecordRoute: 5 points, 3 features, 11222 m",
    "RouteChat: 4 replies (First message, Second message, First message, Third message)",
    "withCall: OK",
    'futures: "Cobbler\'s Row Historic District, Main Street, Pellham, NJ", ""',
  ]);
});

test("the README quotes the script's blocking-script region as it is", () => {
  const source = readFileSync(new URL("examples/blocking-script/script.ts", repo), "utf8");
  const region = /\/\/ #region blocking-script\n([\s\S]*?)\/\/ #endregion/.exec(source)?.[1];
  assert.ok(region, "script.ts has a blocking-script region");
  assert.ok(readFileSync(new URL("README.md", repo), "utf8").includes("```ts\n" + region + "```"), "the README has the region verbatim");
});

test.run();
