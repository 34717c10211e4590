// The companions are subpath exports: importing "async-grpc/<name>" (the package's own
// name, which Node resolves through package.json "exports") gives the same module as
// the source folder, and the core stays free of them.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("companion subpath exports");
const repo = new URL("../../", import.meta.url);

test("async-grpc/status, /health, /reflection, /channelz, /admin, /observability and /testing resolve through exports", async () => {
  const status = await import("async-grpc/status");
  assert.type(status.fromError, "function");
  assert.type(status.ErrorInfoSchema, "object");
  const health = await import("async-grpc/health");
  assert.type(health.HealthServicer, "function");
  assert.type(health.HealthClient, "function");
  const reflection = await import("async-grpc/reflection");
  assert.type(reflection.enableServerReflection, "function");
  assert.type(reflection.ProtoReflectionDescriptorDatabase, "function");
  const channelz = await import("async-grpc/channelz");
  assert.type(channelz.addChannelzServicer, "function");
  const admin = await import("async-grpc/admin");
  assert.type(admin.addAdminServicers, "function");
  const observability = await import("async-grpc/observability");
  assert.type(observability.OpenTelemetryPlugin, "function");
  assert.is(observability.OpenTelemetryPlugin, (await import("../src/observability/index.js")).OpenTelemetryPlugin);
  const testing = await import("async-grpc/testing");
  assert.type(testing.testingServer, "function");
  assert.is(testing.testingChannel, (await import("../src/testing/index.js")).testingChannel);
  assert.is(testing.inProcessChannel, (await import("../src/testing/index.js")).inProcessChannel);
  // The same module instances as the folders the tests import.
  assert.is(health.HealthServicer, (await import("../src/health/index.js")).HealthServicer);
});

test("the core imports no companion", () => {
  const index = readFileSync(new URL("src/index.ts", repo), "utf8");
  for (const name of ["status", "health", "reflection", "channelz", "admin", "observability", "testing"]) {
    assert.not.ok(index.includes(`./${name}/`), `src/index.ts imports ${name}`);
  }
});

test.run();
