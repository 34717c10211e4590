// Reflection between our own client and server: every request kind of v1 and v1alpha
// with transitive dependencies, NOT_FOUND answers that leave the stream usable, the
// registry option, runtime-loaded services, the descriptor database with its v1alpha
// fallback, a dynamic call through the registry it builds, and the stream's unhappy
// paths.
import { create, createRegistry, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  EOF,
  insecureChannel,
  loadProtos,
  StatusCode,
  unaryUnaryRpcMethodHandler,
  type Channel,
  type Server,
} from "../../src/index.js";
import {
  enableServerReflection,
  ProtoReflectionDescriptorDatabase,
  ReflectionServicer,
  SERVICE_NAMES,
  v1,
  v1alpha,
  type ReflectionOptions,
} from "../../src/reflection/index.js";
import { ServerReflectionClient } from "../../src/reflection/gen/grpc/reflection/v1/reflection_grpc.js";
import { ServerReflectionClient as ServerReflectionClientV1alpha } from "../../src/reflection/gen/grpc/reflection/v1alpha/reflection_grpc.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { Catalog, Item_Kind, type Item } from "../gen/testing/reflect/catalog_pb.js";
import { file_testing_reflect_extras } from "../gen/testing/reflect/extras_pb.js";
import { assertNoLeaks, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("reflection: our client and server");
const PROTO_DIR = fileURLToPath(new URL("../../../test/proto/", import.meta.url));

let started: Started;
let channel: Channel;

function catalogImplementation() {
  return {
    get: (request: { id: string }) => ({ id: request.id, kind: Item_Kind.A, at: timestampFromDate(new Date(0)), base: { id: "b" } }),
  };
}

async function serve(options: ReflectionOptions = {}, extra?: (server: Server) => void): Promise<void> {
  started = await startServer((server) => {
    server.addService(Catalog, catalogImplementation());
    server.addService(Echo, { unary: (r) => ({ message: r.message }) });
    extra?.(server);
    enableServerReflection(server, options);
  });
  channel = insecureChannel(started.target);
}

test.after.each(async () => {
  await channel.close();
  await started.server.stop(null);
});

test.after(async () => {
  await assertNoLeaks();
});

/** One reflection stream; `ask` sends a request and reads its answer. */
function rawV1(ch: Channel) {
  const call = new ServerReflectionClient(ch).serverReflectionInfo();
  return {
    call,
    async ask(messageRequest: v1.ServerReflectionRequest["messageRequest"]): Promise<v1.ServerReflectionResponse> {
      await call.write({ host: "h", messageRequest });
      const r = await call.read();
      if (r === EOF) throw new Error("the stream ended");
      return r;
    },
  };
}

function fileNames(r: v1.ServerReflectionResponse): string[] {
  assert.is(r.messageResponse.case, "fileDescriptorResponse", JSON.stringify(r.messageResponse));
  if (r.messageResponse.case !== "fileDescriptorResponse") return [];
  return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

test("list_services: every registered service, the reflection services included", async () => {
  await serve();
  const { call, ask } = rawV1(channel);
  const r = await ask({ case: "listServices", value: "" });
  assert.is(r.validHost, "h");
  assert.is(r.originalRequest?.messageRequest.case, "listServices");
  assert.is(r.messageResponse.case, "listServicesResponse");
  if (r.messageResponse.case === "listServicesResponse") {
    assert.equal(r.messageResponse.value.service.map((s) => s.name).sort(), ["testing.Echo", "testing.reflect.Catalog", ...SERVICE_NAMES].sort());
  }
  await call.doneWriting();
  assert.is(await call.read(), EOF);
});

test("list_services: the `services` option names exactly what is listed", async () => {
  await serve({ services: ["testing.reflect.Catalog", "grpc.reflection.v1.ServerReflection"] });
  const db = new ProtoReflectionDescriptorDatabase(channel);
  assert.equal(await db.getServices(), ["testing.reflect.Catalog", "grpc.reflection.v1.ServerReflection"]);
  await db.close();
});

test("file_containing_symbol: services, methods, messages, nested names, fields, oneofs, enums and values; each file with its transitive imports", async () => {
  await serve();
  const { call, ask } = rawV1(channel);
  const catalog = ["testing/reflect/catalog.proto", "google/protobuf/timestamp.proto", "testing/reflect/base.proto"];
  for (const symbol of [
    "testing.reflect.Catalog",
    "testing.reflect.Catalog.Get",
    "testing.reflect.Item",
    "testing.reflect.Item.Kind",
    "testing.reflect.Item.KIND_A",
    "testing.reflect.Item.base",
    "testing.reflect.GetRequest.selector",
    "testing.reflect.Color",
    "testing.reflect.COLOR_GREEN",
    ".testing.reflect.GetRequest",
  ]) {
    assert.equal(fileNames(await ask({ case: "fileContainingSymbol", value: symbol })), catalog, symbol);
  }
  assert.equal(fileNames(await ask({ case: "fileContainingSymbol", value: "testing.reflect.Base.Inner" })), ["testing/reflect/base.proto"]);
  assert.equal(fileNames(await ask({ case: "fileContainingSymbol", value: "testing.Echo.Unary" })), ["testing/echo.proto"]);
  assert.equal(fileNames(await ask({ case: "fileContainingSymbol", value: "grpc.reflection.v1alpha.ServerReflection" })), ["grpc/reflection/v1alpha/reflection.proto"]);
  await call.doneWriting();
});

test("file_by_filename, and NOT_FOUND answers that leave the stream usable", async () => {
  await serve();
  const { call, ask } = rawV1(channel);
  assert.equal(fileNames(await ask({ case: "fileByFilename", value: "testing/reflect/base.proto" })), ["testing/reflect/base.proto"]);
  for (const messageRequest of [
    { case: "fileByFilename", value: "nope.proto" },
    { case: "fileContainingSymbol", value: "testing.reflect.Nope" },
    { case: "allExtensionNumbersOfType", value: "testing.reflect.Nope" },
    { case: "fileContainingExtension", value: create(v1.ExtensionRequestSchema, { containingType: "testing.reflect.Base", extensionNumber: 100 }) },
  ] as const) {
    const r = await ask(messageRequest);
    assert.is(r.messageResponse.case, "errorResponse", messageRequest.case);
    if (r.messageResponse.case === "errorResponse") assert.is(r.messageResponse.value.errorCode, StatusCode.NOT_FOUND);
  }
  // An empty request is not one reflection knows.
  const empty = await ask({ case: undefined });
  assert.is(empty.messageResponse.case === "errorResponse" && empty.messageResponse.value.errorCode, StatusCode.UNIMPLEMENTED);
  // Still usable.
  assert.is((await ask({ case: "listServices", value: "" })).messageResponse.case, "listServicesResponse");
  await call.doneWriting();
});

test("extensions: known through the registry option (all_extension_numbers_of_type, file_containing_extension)", async () => {
  await serve({ registry: createRegistry(file_testing_reflect_extras) });
  const { call, ask } = rawV1(channel);
  const numbers = await ask({ case: "allExtensionNumbersOfType", value: "testing.reflect.Base" });
  assert.is(numbers.messageResponse.case, "allExtensionNumbersResponse");
  if (numbers.messageResponse.case === "allExtensionNumbersResponse") {
    assert.is(numbers.messageResponse.value.baseTypeName, "testing.reflect.Base");
    assert.equal(numbers.messageResponse.value.extensionNumber, [100, 101]);
  }
  const ext = await ask({ case: "fileContainingExtension", value: create(v1.ExtensionRequestSchema, { containingType: "testing.reflect.Base", extensionNumber: 101 }) });
  assert.equal(fileNames(ext), ["testing/reflect/extras.proto", "testing/reflect/base.proto"]);
  assert.equal(fileNames(await ask({ case: "fileContainingSymbol", value: "testing.reflect.Holder.note" })), ["testing/reflect/extras.proto", "testing/reflect/base.proto"]);
  // A message without extensions answers an empty list, not NOT_FOUND.
  const none = await ask({ case: "allExtensionNumbersOfType", value: "testing.reflect.Item" });
  assert.equal(none.messageResponse.case === "allExtensionNumbersResponse" && none.messageResponse.value.extensionNumber, []);
  await call.doneWriting();
});

test("v1alpha answers the same", async () => {
  await serve();
  const call = new ServerReflectionClientV1alpha(channel).serverReflectionInfo();
  await call.write({ messageRequest: { case: "fileContainingSymbol", value: "testing.reflect.Catalog" } });
  const r = await call.read();
  assert.ok(r !== EOF);
  assert.is(r.$typeName, "grpc.reflection.v1alpha.ServerReflectionResponse");
  assert.is(r.messageResponse.case === "fileDescriptorResponse" && r.messageResponse.value.fileDescriptorProto.length, 3);
  await call.doneWriting();
  assert.is(await call.read(), EOF);
});

test("services loaded from .proto files at run time are described too; a service registered by name only is listed but has no file", async () => {
  const loaded = loadProtos("testing/reflect/catalog.proto", { includeDirs: [PROTO_DIR] });
  const runtimeCatalog = loaded.services["testing.reflect.Catalog"]!;
  started = await startServer((server) => {
    server.addService(runtimeCatalog, {});
    server.addRegisteredMethodHandlers("testing.Opaque", {
      Call: unaryUnaryRpcMethodHandler((r: Uint8Array) => r),
    });
    enableServerReflection(server);
  });
  channel = insecureChannel(started.target);
  const db = new ProtoReflectionDescriptorDatabase(channel);
  assert.ok((await db.getServices()).includes("testing.Opaque"));
  const file = await db.findFileContainingSymbol("testing.reflect.Item.Kind");
  assert.is(file.name, "testing/reflect/catalog.proto");
  assert.ok((file.sourceCodeInfo?.location.length ?? 0) > 0, "the runtime-loaded file keeps its comments");
  await expectStatus(db.findFileContainingSymbol("testing.Opaque"), StatusCode.NOT_FOUND);
  await db.close();
});

test("registeredServices(): the seam reflection reads", async () => {
  await serve();
  const services = started.server.registeredServices();
  assert.is(services.get("testing.reflect.Catalog"), Catalog);
  assert.ok(services.has("grpc.reflection.v1.ServerReflection"));
});

test("the descriptor database: every find, kept files, and a registry a client calls through with no generated code", async () => {
  await serve({ registry: createRegistry(file_testing_reflect_extras) });
  const db = new ProtoReflectionDescriptorDatabase(channel);
  assert.ok((await db.getServices()).includes("testing.reflect.Catalog"));
  assert.is(db.version, "v1");
  assert.is((await db.findFileContainingSymbol("testing.reflect.Catalog.List")).name, "testing/reflect/catalog.proto");
  assert.is((await db.findFileByName("google/protobuf/timestamp.proto")).package, "google.protobuf");
  assert.equal(await db.findAllExtensionNumbers("testing.reflect.Base"), [100, 101]);
  assert.is((await db.findFileContainingExtension("testing.reflect.Base", 100)).name, "testing/reflect/extras.proto");
  await expectStatus(db.findFileByName("missing.proto"), StatusCode.NOT_FOUND);
  await expectStatus(db.findAllExtensionNumbers("testing.Nope"), StatusCode.NOT_FOUND);

  const registry = await db.registry(["testing.reflect.Catalog"]);
  const service = registry.getService("testing.reflect.Catalog");
  assert.ok(service);
  const client = createClient(service, channel);
  const item = (await client.get({ id: "x1" })) as Item & { $typeName: string };
  assert.is(item.$typeName, "testing.reflect.Item");
  assert.is(item.id, "x1");
  assert.is(item.kind, Item_Kind.A);
  assert.is(item.base?.id, "b");
  const itemSchema = registry.getMessage("testing.reflect.Item") as DescMessage;
  assert.is(itemSchema.field["at"]?.message?.typeName, "google.protobuf.Timestamp");
  await db.close();
});

test("v1alpha fallback: a server with only v1alpha", async () => {
  started = await startServer((server) => {
    server.addService(Catalog, catalogImplementation());
    server.addService(v1alpha.ServerReflection, new ReflectionServicer(server).v1alpha);
  });
  channel = insecureChannel(started.target);
  const db = new ProtoReflectionDescriptorDatabase(channel);
  assert.equal(await db.getServices(), ["testing.reflect.Catalog", "grpc.reflection.v1alpha.ServerReflection"]);
  assert.is(db.version, "v1alpha");
  const registry = await db.registry(["testing.reflect.Catalog"]);
  const item = await createClient(registry.getService("testing.reflect.Catalog")!, channel).get({ id: "y" });
  assert.is((item as Item).id, "y");
  await db.close();
  // Forced v1 does not fall back.
  const strict = new ProtoReflectionDescriptorDatabase(channel, { version: "v1" });
  await expectStatus(strict.getServices(), StatusCode.UNIMPLEMENTED);
  await strict.close();
});

test("unhappy paths: a client that cancels mid-stream, and a server that stops with reflection streams open", async () => {
  await serve();
  const { call, ask } = rawV1(channel);
  await ask({ case: "listServices", value: "" });
  call.cancel();
  await expectStatus(call.read(), StatusCode.CANCELLED);
  const db = new ProtoReflectionDescriptorDatabase(channel);
  await db.getServices();
  const open = rawV1(channel);
  await open.ask({ case: "listServices", value: "" });
  await started.server.stop(null);
  await expectStatus(open.call.read(), StatusCode.UNAVAILABLE);
  // The database's stream failed; its next request says so (and would reconnect).
  await expectStatus(db.getServices(), StatusCode.UNAVAILABLE);
  await db.close();
});

test.run();
