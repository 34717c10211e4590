// The CLI against other implementations: list, describe and call against a grpc-js
// server with @grpc/reflection (which sends descriptors rebuilt from protobufjs), and
// health against the grpc-health-check package's server.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assertNoLeaks } from "../helpers.js";
import { runCli, startCli } from "./run-cli.js";

const test = suite("cli: against grpc-js peers");
const PROTO_DIR = fileURLToPath(new URL("../../../test/proto/", import.meta.url));

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
}

interface GetRequest {
  id: string;
  name?: string;
}

test("list, describe and call against a grpc-js server with @grpc/reflection", async () => {
  const definition = protoLoader.loadSync("testing/reflect/catalog.proto", { includeDirs: [PROTO_DIR], keepCase: true, enums: String, longs: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { testing: { reflect: { Catalog: grpc.ServiceClientConstructor } } };
  const server = new grpc.Server();
  server.addService(pkg.testing.reflect.Catalog.service, {
    Get: (call: grpc.ServerUnaryCall<GetRequest, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { id: `js-${call.request.id}`, kind: "KIND_A", color: "COLOR_GREEN", base: { id: call.request.name ?? "" } }),
    List: (call: grpc.ServerWritableStream<GetRequest, unknown>) => {
      for (let i = 0; i < 3; i++) call.write({ id: `${call.request.id}-${i}` });
      call.end();
    },
  });
  new ReflectionService(definition).addToServer(server);
  const target = `127.0.0.1:${await bind(server)}`;
  try {
    const list = await runCli(["list", target, "--plaintext"]);
    assert.is(list.code, 0, list.stderr);
    assert.match(list.stdout, "testing.reflect.Catalog\n");
    const methods = await runCli(["list", target, "testing.reflect.Catalog", "--plaintext"]);
    assert.is(methods.stdout, "testing.reflect.Catalog.Get\ntesting.reflect.Catalog.List\n");
    const service = await runCli(["describe", target, "testing.reflect.Catalog", "--plaintext"]);
    assert.is(service.code, 0, service.stderr);
    assert.match(service.stdout, "rpc Get(.testing.reflect.GetRequest) returns (.testing.reflect.Item);");
    assert.match(service.stdout, "rpc List(.testing.reflect.GetRequest) returns (stream .testing.reflect.Item);");
    // @grpc/reflection names types relative to their scope; the description is fully qualified.
    const item = await runCli(["describe", target, "testing.reflect.Item", "--plaintext"]);
    assert.is(item.code, 0, item.stderr);
    assert.match(item.stdout, ".testing.reflect.Base.Inner inner = 3;");
    assert.match(item.stdout, ".testing.reflect.Item.Kind kind = 5;");
    const request = await runCli(["describe", target, "testing.reflect.GetRequest", "--plaintext"]);
    assert.match(request.stdout, "  oneof selector {\n    string name = 2;\n    int32 number = 3;\n  }");
    const get = await runCli(["call", target, "testing.reflect.Catalog/Get", "--plaintext", "-d", '{"id":"7","name":"n"}']);
    assert.is(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout), { id: "js-7", base: { id: "n" }, kind: "KIND_A", color: "COLOR_GREEN" });
    const stream = await runCli(["call", target, "testing.reflect.Catalog/List", "--plaintext", "-d", '{"id":"s"}']);
    assert.is(stream.stdout, '{"id":"s-0"}\n{"id":"s-1"}\n{"id":"s-2"}\n');
    const unknown = await runCli(["call", target, "testing.reflect.Catalog/Nope", "--plaintext"]);
    assert.is(unknown.code, 69);
  } finally {
    server.forceShutdown();
  }
});

test("health against the grpc-health-check package's server: Check exit codes and --watch", async () => {
  const impl = new HealthImplementation({ "": "SERVING", up: "SERVING", down: "NOT_SERVING" });
  const server = new grpc.Server();
  impl.addToServer(server);
  const target = `127.0.0.1:${await bind(server)}`;
  try {
    const overall = await runCli(["health", target, "--plaintext"]);
    assert.is(overall.code, 0, overall.stderr);
    assert.is(overall.stdout, "status: SERVING\n");
    assert.is((await runCli(["health", target, "up", "--plaintext"])).code, 0);
    const down = await runCli(["health", target, "down", "--plaintext"]);
    assert.is(down.code, 4);
    assert.is(down.stdout, "status: NOT_SERVING\n");
    assert.is((await runCli(["health", target, "nope", "--plaintext"])).code, 3);
    const watch = startCli(["health", target, "later", "--plaintext", "--watch", "--max-time", "20"]);
    watch.child.stdin.end();
    assert.equal(await watch.lines(1), ["status: SERVICE_UNKNOWN"]);
    impl.setStatus("later", "SERVING");
    assert.equal(await watch.lines(2), ["status: SERVICE_UNKNOWN", "status: SERVING"]);
    watch.child.kill("SIGTERM");
    await watch.done;
  } finally {
    server.forceShutdown();
  }
  await assertNoLeaks();
});

test.run();
