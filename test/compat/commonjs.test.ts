// CommonJS users: require("async-grpc") and require("async-grpc/compat") work, through
// Node's require(esm) (Node 20.19 and later; the package has no top-level await), in
// a CommonJS project made here, and so does generated legacy_commonjs code.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("compat: CommonJS");
const repo = fileURLToPath(new URL("../../../", import.meta.url));

test("a CommonJS project requires the core, the compat layer and generated CommonJS code", () => {
  const dir = mkdtempSync(join(tmpdir(), "async-grpc-cjs-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repo, join(dir, "node_modules/async-grpc"), "dir");
    symlinkSync(join(repo, "node_modules/@bufbuild"), join(dir, "node_modules/@bufbuild"), "dir");
    // The golden legacy_commonjs output, outside this ESM package's scope.
    cpSync(join(repo, "codegen/test/gen/cjs"), join(dir, "gen"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cjs-user", private: true, type: "commonjs" }));
    writeFileSync(
      join(dir, "main.js"),
      `"use strict";
const grpc = require("async-grpc");
const compat = require("async-grpc/compat");
const { GreeterClient, GreeterBlockingClient } = require("./gen/greet/v1/greeter_grpc");
const channel = grpc.insecureChannel("127.0.0.1:1");
new GreeterClient(channel);
const blocking = new compat.BlockingChannel("127.0.0.1:1");
const client = new GreeterBlockingClient(blocking);
try {
  client.sayHello({ name: { value: "cjs" } });
} catch (err) {
  console.log(String(err instanceof grpc.RpcError), grpc.StatusCode[err.code]);
}
blocking.close();
console.log(typeof grpc.createServer, typeof compat.createBlockingClient, typeof compat.Future, typeof compat.HandlerPool);
channel.close();
`,
    );
    const run = spawnSync(process.execPath, ["main.js"], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout, "true UNAVAILABLE\nfunction function function function\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
