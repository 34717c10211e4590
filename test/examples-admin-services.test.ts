// The admin services example (examples/admin-services): a route guide server with
// health, reflection and channelz, inspected by a tool that knows none of its services
// in advance; the demo program; and the README snippets copied from it.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "../examples/admin-services/inspect.js";
import { serve } from "../examples/admin-services/server.js";
import { ServingStatus } from "../src/health/index.js";
import { assertNoLeaks } from "./helpers.js";

const repo = new URL("../../", import.meta.url);
const test = suite("examples/admin-services");

test.after(async () => {
  await assertNoLeaks();
});

test("inspect(): services by reflection, their health, a call through reflected descriptors, channelz counters", async () => {
  const { server, port, health } = await serve();
  try {
    const report = await inspect(`127.0.0.1:${port}`);
    assert.equal(report.services.sort(), [
      "grpc.channelz.v1.Channelz",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "routeguide.RouteGuide",
    ]);
    assert.is(report.health["(server)"], "SERVING");
    assert.is(report.health["routeguide.RouteGuide"], "SERVING");
    assert.is(report.health["grpc.channelz.v1.Channelz"], "(not registered)");
    assert.is(report.featureName, "Cobbler's Row Historic District, Main Street, Pellham, NJ");
    // 6 health checks (4 NOT_FOUND), 4 reflection calls, GetFeature, and GetServers itself in flight.
    assert.ok(report.server.callsStarted >= 8n, `calls started: ${report.server.callsStarted}`);
    assert.is(report.server.callsFailed, 4n);
    health.set("routeguide.RouteGuide", ServingStatus.NOT_SERVING);
    assert.is((await inspect(`127.0.0.1:${port}`)).health["routeguide.RouteGuide"], "NOT_SERVING");
  } finally {
    await server.stop(null);
  }
  assert.is(health.status("routeguide.RouteGuide"), ServingStatus.NOT_SERVING, "stop() turned everything NOT_SERVING");
  assert.is(health.status(""), ServingStatus.NOT_SERVING);
});

test("the demo runs to the end and prints every step", async () => {
  const demo = fileURLToPath(new URL("../examples/admin-services/demo.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [demo], { timeout: 20_000 }, (err, out, errOut) => {
      if (err) reject(new Error(`demo failed: ${err.message}\n${out}\n${errOut}`));
      else resolve(out);
    });
  });
  for (const expected of [
    "services (reflection): routeguide.RouteGuide, grpc.health.v1.Health",
    "health routeguide.RouteGuide: SERVING",
    "GetFeature through reflected descriptors: Cobbler's Row",
    "channelz server counters:",
    "health watch during stop(): SERVING -> NOT_SERVING",
    "stopped",
  ]) {
    assert.ok(stdout.includes(expected), `the demo's output lacks ${JSON.stringify(expected)}:\n${stdout}`);
  }
});

test("every snippet the README copies from examples/admin-services matches its source", () => {
  const text = readFileSync(new URL("README.md", repo), "utf8");
  const folder = new URL("examples/admin-services/", repo);
  let count = 0;
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(new URL(file, folder), "utf8");
    for (const match of source.matchAll(/^([ \t]*)\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion$/gm)) {
      const lines = match[3]!.replace(/\n$/, "").split("\n");
      const cut = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length));
      const code = lines.map((l) => l.slice(cut).trimEnd()).join("\n");
      assert.ok(text.includes(code), `README lacks the current text of the "${match[2]}" snippet:\n${code}`);
      count++;
    }
  }
  assert.ok(count >= 2, `found only ${count} #region snippets`);
});

test.run();
