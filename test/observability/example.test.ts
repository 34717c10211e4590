// examples/observability: the route guide under the plugin prints a span per call,
// attempt and server call, and the A66 metrics; the README quotes its snippet and its
// output's shape.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { observe } from "../../examples/observability/observe.js";
import { assertNoLeaks } from "../helpers.js";

const test = suite("examples/observability");
const repo = new URL("../../../", import.meta.url);

test("observe(): spans to the console as they end, then the metrics", async () => {
  const lines: string[] = [];
  await observe((line) => lines.push(line));
  const spans = lines.filter((l) => l.startsWith("span "));
  assert.is(spans.length, 9, lines.join("\n"));
  for (const name of ["Sent.routeguide.RouteGuide.GetFeature (CLIENT) OK", "Attempt.routeguide.RouteGuide.ListFeatures (INTERNAL) OK", "Recv.routeguide.RouteGuide.GetFeature (SERVER) OK"]) {
    assert.ok(spans.some((l) => l.startsWith(`span ${name}`)), `no "${name}" in\n${spans.join("\n")}`);
  }
  assert.ok(spans.some((l) => l.includes('ERROR "INVALID_ARGUMENT: (91.00000, 0.00000) is not a valid location"')));
  const metrics = lines.filter((l) => l.startsWith("metric "));
  assert.ok(metrics.some((l) => /^metric grpc\.server\.call\.started \{grpc\.method=routeguide\.RouteGuide\/GetFeature\} value 2 \{call\}$/.test(l)), metrics.join("\n"));
  assert.ok(metrics.some((l) => l.includes("grpc.client.attempt.duration") && l.includes("grpc.status=INVALID_ARGUMENT} count 1 sum ")));
  await assertNoLeaks();
});

test("the README quotes the example's snippet", () => {
  const readme = readFileSync(new URL("README.md", repo), "utf8");
  const source = readFileSync(new URL("examples/observability/observe.ts", repo), "utf8");
  const match = /^([ \t]*)\/\/ #region plugin\n([\s\S]*?)^[ \t]*\/\/ #endregion$/m.exec(source);
  assert.ok(match, "no #region plugin in observe.ts");
  const indent = match![1]!;
  const code = match![2]!
    .split("\n")
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    .join("\n")
    .trimEnd();
  assert.ok(readme.includes(code), `README lacks the snippet:\n${code}`);
});

test.run();
