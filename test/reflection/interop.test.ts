// Reflection against other implementations: our descriptor database against
// @grpc/reflection's server (on grpc-js), calling the grpc-js service through the
// registry it builds; and grpc-js-reflection-client against our server, calling our
// service through the package it builds.
import { toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { GrpcReflection } from "grpc-js-reflection-client";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, StatusCode } from "../../src/index.js";
import { enableServerReflection, ProtoReflectionDescriptorDatabase } from "../../src/reflection/index.js";
import { Catalog, Item_Kind, type Item } from "../gen/testing/reflect/catalog_pb.js";
import { assertNoLeaks, expectStatus, startServer } from "../helpers.js";

const test = suite("reflection: across implementations");
const PROTO_DIR = fileURLToPath(new URL("../../../test/proto/", import.meta.url));

test("our descriptor database against @grpc/reflection's server, then a call through the registry", async () => {
  const definition = protoLoader.loadSync("testing/reflect/catalog.proto", { includeDirs: [PROTO_DIR], keepCase: true, enums: String, longs: String, defaults: true });
  const server = new grpc.Server();
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { testing: { reflect: { Catalog: grpc.ServiceClientConstructor } } };
  server.addService(pkg.testing.reflect.Catalog.service, {
    Get: (call: grpc.ServerUnaryCall<{ id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { id: `js-${call.request.id}`, kind: "KIND_A", base: { id: "base" } }),
  });
  new ReflectionService(definition).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const channel = insecureChannel(`127.0.0.1:${port}`);
  const db = new ProtoReflectionDescriptorDatabase(channel);
  try {
    assert.ok((await db.getServices()).includes("testing.reflect.Catalog"));
    assert.is(db.version, "v1");
    // @grpc/reflection rebuilds its files from protobufjs, one per package, under names
    // of its own ("testing_reflect.proto"), so the file is found by what it holds.
    const file = await db.findFileContainingSymbol("testing.reflect.Item");
    assert.is(file.package, "testing.reflect");
    assert.ok(file.messageType.some((m) => m.name === "Item"));
    assert.is((await db.findFileByName(file.name)).name, file.name);
    await expectStatus(db.findFileContainingSymbol("testing.reflect.Nope"), StatusCode.NOT_FOUND);
    const registry = await db.registry(["testing.reflect.Catalog"]);
    const client = createClient(registry.getService("testing.reflect.Catalog")!, channel);
    const item = (await client.get({ id: "1" })) as Item;
    assert.is(item.id, "js-1");
    assert.is(item.kind, Item_Kind.A);
    assert.is(item.base?.id, "base");
    // @grpc/reflection leaves json_name out; the registry's JSON names are protoc's defaults.
    const itemSchema = registry.getMessage("testing.reflect.Item")!;
    assert.equal(toJson(itemSchema, item), { id: "js-1", base: { id: "base" }, kind: "KIND_A" });
  } finally {
    await db.close();
    await channel.close();
    server.forceShutdown();
  }
});

test("grpc-js-reflection-client against our server: list, descriptors by symbol and by file, then a grpc-js call", async () => {
  const started = await startServer((server) => {
    server.addService(Catalog, { get: (r) => ({ id: `ours-${r.id}`, kind: Item_Kind.A }) });
    enableServerReflection(server);
  });
  // Its default is v1alpha; v1 is checked below too.
  const reflection = new GrpcReflection(started.target, grpc.credentials.createInsecure());
  let client: grpc.Client | undefined;
  try {
    const v1 = new GrpcReflection(started.target, grpc.credentials.createInsecure(), {}, "v1");
    assert.ok((await v1.listServices()).includes("testing.reflect.Catalog"));
    assert.ok((await v1.getDescriptorBySymbol("testing.reflect.Item")).getProtobufJsRoot().lookupType("testing.reflect.Item"));
    const services = await reflection.listServices();
    assert.ok(services.includes("testing.reflect.Catalog"), services.join(", "));
    assert.ok(services.includes("grpc.reflection.v1.ServerReflection"));
    const methods = await reflection.listMethods("testing.reflect.Catalog");
    assert.equal(methods.map((m) => m.name).sort(), ["Get", "List"]);
    const byFile = await reflection.getDescriptorByFileName("testing/reflect/base.proto");
    assert.ok(byFile.getProtobufJsRoot().lookupType("testing.reflect.Base"));
    const descriptor = await reflection.getDescriptorBySymbol("testing.reflect.Catalog");
    const pkg = descriptor.getPackageObject({ keepCase: true, enums: String, longs: String, defaults: true }) as unknown as {
      testing: { reflect: { Catalog: grpc.ServiceClientConstructor } };
    };
    const Client = pkg.testing.reflect.Catalog;
    client = new Client(started.target, grpc.credentials.createInsecure());
    const item = await new Promise<{ id: string; kind: string }>((resolve, reject) =>
      (client as unknown as { Get(r: object, cb: (e: Error | null, r: { id: string; kind: string }) => void): void }).Get({ id: "2" }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    assert.is(item.id, "ours-2");
    assert.is(item.kind, "KIND_A");
  } finally {
    client?.close();
    await started.server.stop(null);
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
