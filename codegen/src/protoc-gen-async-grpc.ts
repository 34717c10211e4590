// protoc-gen-async-grpc: for each .proto file with services, `<name>_grpc.ts` (or `.js`
// and `.d.ts`) next to protoc-gen-es's `<name>_pb`, with per service
//   - `<Service>Client`: a class over a Channel, one typed method per RPC (gRPC Python's Stub),
//   - `<Service>Servicer`: the handler signatures (gRPC Python's Servicer),
//   - `add<Service>ServicerToServer(servicer, server)`,
//   - `<Service>BlockingClient`: the same RPCs on a `BlockingChannel` from
//     `async-grpc/compat`, whose calls block the calling thread (gRPC Python's Stub on a
//     synchronous channel).
// The standard options of @bufbuild/protoplugin apply: target, import_extension,
// js_import_style, keep_empty_files, ts_nocheck, rewrite_imports, ...
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin, getComments, type GeneratedFile, type Printable, type Schema } from "@bufbuild/protoplugin";
import { memberName as runtimeMemberName } from "../../src/wire/member-name.js";
import { VERSION } from "../../src/version.js";

/** Where the generated code imports the runtime from. */
export const RUNTIME = "async-grpc";
/** Where the generated blocking clients import the blocking-style layer from. */
export const COMPAT_RUNTIME = "async-grpc/compat";

type Target = "ts" | "js" | "dts";

export const protocGenAsyncGrpc = createEcmaScriptPlugin({
  name: "protoc-gen-async-grpc",
  version: `v${VERSION}`,
  generateTs: (schema) => generate(schema, "ts"),
  generateJs: (schema) => generate(schema, "js"),
  generateDts: (schema) => generate(schema, "dts"),
});

function generate(schema: Schema, target: Target): void {
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const f = schema.generateFile(`${file.name}_grpc.${target === "dts" ? "d.ts" : target}`);
    f.preamble(file);
    for (const service of file.services) {
      generateClient(f, service, target);
      if (target !== "js") generateServicer(f, service);
      generateAddFunction(f, service, target);
      generateBlockingClient(f, service, target);
    }
  }
}

/** The names a service's generated declarations take (never a reserved word: they all have a suffix). */
export function generatedNames(service: DescService): { client: string; servicer: string; add: string; blockingClient: string } {
  return {
    client: `${service.name}Client`,
    servicer: `${service.name}Servicer`,
    add: `add${service.name}ServicerToServer`,
    blockingClient: `${service.name}BlockingClient`,
  };
}

// ---- the client class ----------------------------------------------------------------

function generateClient(f: GeneratedFile, service: DescService, target: Target): void {
  const names = generatedNames(service);
  const runtime = runtimeImports(f);
  f.print(f.jsDoc(docText(service, { deprecated: service.deprecated })));
  f.print(f.export(target === "dts" ? "declare class" : "class", names.client), " {");
  // A private name cannot collide with a method, whatever the RPC is called. A service
  // without methods needs no state (and an unread field would fail noUnusedLocals).
  const stateful = service.methods.length > 0;
  if (stateful) {
    if (target === "ts") f.print("  readonly #stub: ", runtime.Client, "<typeof ", f.importSchema(service, true), ">;");
    else if (target === "dts") f.print("  #private;");
    else f.print("  #stub;");
    f.print();
  }
  // Parameter names must not shadow the imports used in the body.
  const channel = paramName("channel", service);
  f.print(f.jsDoc(
      `Calls ${service.typeName} on \`${channel}\` (gRPC Python's \`${service.name}Stub(channel)\`).\n` +
        "The client does not own the channel: close the channel when done.",
      "  ",
    ));
  printConstructor(f, target, service, channel, runtime.Channel, runtime.createClient, stateful);
  for (const method of service.methods) {
    f.print();
    f.print(f.jsDoc(docText(method, { deprecated: method.deprecated }), "  "));
    const name = memberName(method);
    const streamingRequest = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const input = streamingRequest ? "requests" : "request";
    if (target === "js") {
      f.print("  ", name, "(", input, ", options) {");
    } else {
      const init = initShape(f, method.input);
      const requestType: Printable = streamingRequest
        ? ["globalThis.AsyncIterable<", init, "> | globalThis.Iterable<", init, ">"]
        : init;
      const call = callType(runtime, method);
      const signature: Printable[] = [
        "  ", name, "(", input, streamingRequest ? "?: " : ": ", requestType, ", options?: ", runtime.CallOptions, "): ",
        call, "<", init, ", ", f.importShape(method.output), ">",
      ];
      if (target === "dts") {
        f.print(...signature, ";");
        continue;
      }
      f.print(...signature, " {");
    }
    f.print("    return this.#stub", memberAccess(method), "(", input, ", options);");
    f.print("  }");
  }
  f.print("}");
  f.print();
}

// ---- the servicer interface and the add function -----------------------------------------

function generateServicer(f: GeneratedFile, service: DescService): void {
  const names = generatedNames(service);
  const runtime = runtimeImports(f);
  f.print(f.jsDoc(docText(service, { deprecated: service.deprecated })));
  f.print(f.export("interface", names.servicer), " {");
  service.methods.forEach((method, i) => {
    if (i > 0) f.print();
    // A servicer must still implement a deprecated RPC: no @deprecated here.
    f.print(f.jsDoc(docText(method, { deprecated: false }), "  "));
    const request = f.importShape(method.input);
    const response = initShape(f, method.output);
    const context: Printable = [runtime.ServicerContext, "<", request, ", ", response, ">"];
    const result = method.methodKind === "unary" || method.methodKind === "client_streaming" ? runtime.UnaryResult : runtime.StreamResult;
    const input: Printable =
      method.methodKind === "unary" || method.methodKind === "server_streaming"
        ? ["request: ", request]
        : ["requests: globalThis.AsyncIterable<", request, ">"];
    f.print("  ", memberName(method), "(", input, ", context: ", context, "): ", result, "<", response, ">;");
  });
  f.print("}");
  f.print();
}

function generateAddFunction(f: GeneratedFile, service: DescService, target: Target): void {
  const names = generatedNames(service);
  const runtime = runtimeImports(f);
  const servicer = paramName("servicer", service);
  const server = paramName("server", service);
  f.print(
    f.jsDoc(
      `Serves \`${servicer}\` for ${service.typeName} on \`${server}\` (gRPC Python's \`add_${service.name}Servicer_to_server\`).\n` +
        "RPCs that the servicer leaves out answer UNIMPLEMENTED.",
    ),
  );
  if (target === "js") {
    f.print(f.export("function", names.add), "(", servicer, ", ", server, ") {");
  } else {
    const signature: Printable[] = [
      "(", servicer, ": globalThis.Partial<", names.servicer, ">, ", server, ": ", runtime.Server, "): void",
    ];
    if (target === "dts") {
      f.print(f.export("declare function", names.add), ...signature, ";");
      f.print();
      return;
    }
    f.print(f.export("function", names.add), ...signature, " {");
  }
  f.print("  ", server, ".addService(", f.importSchema(service), ", ", servicer, ");");
  f.print("}");
  f.print();
}

// ---- the blocking client class ---------------------------------------------------------

// One getter per RPC, so that `client.getFeature.withCall(...)` and `.future(...)` are
// there as on any blocking multi-callable; the class has no other members, and a
// private field, so no RPC name can clash with one.
function generateBlockingClient(f: GeneratedFile, service: DescService, target: Target): void {
  const names = generatedNames(service);
  const compat = compatImports(f);
  f.print(
    f.jsDoc(
      docText(service, { deprecated: service.deprecated }).replace(
        /^@generated/m,
        `The blocking client: each call blocks the calling thread until it is done (see \`BlockingChannel\`).\n\n@generated`,
      ),
    ),
  );
  f.print(f.export(target === "dts" ? "declare class" : "class", names.blockingClient), " {");
  const stateful = service.methods.length > 0;
  if (stateful) {
    if (target === "ts") f.print("  readonly #stub: ", compat.BlockingMethods, "<typeof ", f.importSchema(service, true), ">;");
    else if (target === "dts") f.print("  #private;");
    else f.print("  #stub;");
    f.print();
  }
  const channel = paramName("channel", service);
  f.print(
    f.jsDoc(
      `Calls ${service.typeName} on \`${channel}\`, blocking (gRPC Python's \`${service.name}Stub(channel)\` on a synchronous channel).\n` +
        "The client does not own the channel: close the channel when done.",
      "  ",
    ),
  );
  printConstructor(f, target, service, channel, compat.BlockingChannel, compat.blockingMethods, stateful);
  for (const method of service.methods) {
    f.print();
    f.print(f.jsDoc(docText(method, { deprecated: method.deprecated }), "  "));
    const name = memberName(method);
    if (target === "js") {
      f.print("  get ", name, "() {");
    } else {
      const init = initShape(f, method.input);
      const signature: Printable[] = ["  get ", name, "(): ", blockingCallableType(compat, method), "<", init, ", ", f.importShape(method.output), ">"];
      if (target === "dts") {
        f.print(...signature, ";");
        continue;
      }
      f.print(...signature, " {");
    }
    f.print("    return this.#stub", memberAccess(method), ";");
    f.print("  }");
  }
  f.print("}");
  f.print();
}

// The constructor of a generated client: it takes the channel and makes its stub with
// `factory` (createClient for the async client, blockingMethods for the blocking one).
function printConstructor(f: GeneratedFile, target: Target, service: DescService, channel: string, channelType: Printable, factory: Printable, stateful: boolean): void {
  if (target === "dts") {
    f.print("  constructor(", channel, ": ", channelType, ");");
    return;
  }
  f.print("  constructor(", channel, target === "ts" ? [": ", channelType] : "", ") {");
  if (stateful) f.print("    this.#stub = ", factory, "(", f.importSchema(service), ", ", channel, ");");
  else f.print("    void ", channel, "; // no RPCs to call");
  f.print("  }");
}

function compatImports(f: GeneratedFile) {
  const type = (name: string) => f.import(name, COMPAT_RUNTIME, true);
  return {
    blockingMethods: f.import("blockingMethods", COMPAT_RUNTIME),
    BlockingChannel: type("BlockingChannel"),
    BlockingMethods: type("BlockingMethods"),
    BlockingUnaryUnaryMultiCallable: type("BlockingUnaryUnaryMultiCallable"),
    BlockingUnaryStreamMultiCallable: type("BlockingUnaryStreamMultiCallable"),
    BlockingStreamUnaryMultiCallable: type("BlockingStreamUnaryMultiCallable"),
    BlockingStreamStreamMultiCallable: type("BlockingStreamStreamMultiCallable"),
  };
}

function blockingCallableType(compat: ReturnType<typeof compatImports>, method: DescMethod): Printable {
  switch (method.methodKind) {
    case "unary":
      return compat.BlockingUnaryUnaryMultiCallable;
    case "server_streaming":
      return compat.BlockingUnaryStreamMultiCallable;
    case "client_streaming":
      return compat.BlockingStreamUnaryMultiCallable;
    case "bidi_streaming":
      return compat.BlockingStreamStreamMultiCallable;
  }
}

// ---- helpers --------------------------------------------------------------------------

function runtimeImports(f: GeneratedFile) {
  const type = (name: string) => f.import(name, RUNTIME, true);
  return {
    createClient: f.import("createClient", RUNTIME),
    Channel: type("Channel"),
    CallOptions: type("CallOptions"),
    Client: type("Client"),
    Server: type("Server"),
    ServicerContext: type("ServicerContext"),
    UnaryResult: type("UnaryResult"),
    StreamResult: type("StreamResult"),
    UnaryUnaryCall: type("UnaryUnaryCall"),
    UnaryStreamCall: type("UnaryStreamCall"),
    StreamUnaryCall: type("StreamUnaryCall"),
    StreamStreamCall: type("StreamStreamCall"),
  };
}

type RuntimeImports = ReturnType<typeof runtimeImports>;

function callType(runtime: RuntimeImports, method: DescMethod): Printable {
  switch (method.methodKind) {
    case "unary":
      return runtime.UnaryUnaryCall;
    case "server_streaming":
      return runtime.UnaryStreamCall;
    case "client_streaming":
      return runtime.StreamUnaryCall;
    case "bidi_streaming":
      return runtime.StreamStreamCall;
  }
}

/** `MessageInitShape<typeof FooSchema>`: a message or a plain init object. */
function initShape(f: GeneratedFile, message: DescMethod["input"]): Printable {
  return [f.import("MessageInitShape", "@bufbuild/protobuf", true), "<typeof ", f.importSchema(message, true), ">"];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The member that stands for `method` in the client class and the servicer: the key
 * `createClient` and `addService` use (the runtime's `memberName()`), that is the
 * protobuf-es local name, which escapes `constructor` and the other built-in object
 * properties with a `$`, and `then$` for `then`, so that no client is a thenable.
 */
function memberName(method: DescMethod): string {
  const name = runtimeMemberName(method);
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function memberAccess(method: DescMethod): string {
  const name = runtimeMemberName(method);
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/**
 * `name`, or `name_` when the service's descriptor (imported under the service's own
 * name) would otherwise be shadowed inside the function that uses both.
 */
function paramName(name: string, service: DescService): string {
  return service.name === name ? `${name}_` : name;
}

/**
 * The proto comments, then where the code came from, as protoc-gen-es writes them; for
 * a method whose member name is escaped (`then$`, `toString$`, ...), why.
 */
function docText(desc: DescService | DescMethod, opts: { deprecated: boolean }): string {
  const comments = getComments(desc);
  const parts: string[] = [];
  for (const c of [comments.leading, comments.trailing]) {
    if (c === undefined) continue;
    const text = c
      .replace(/\n$/, "")
      .split("\n")
      .map((line) => (line.startsWith(" ") ? line.substring(1) : line))
      .join("\n");
    if (text.trim() !== "") parts.push(text);
  }
  if (desc.kind === "rpc") {
    const name = runtimeMemberName(desc);
    if (name.endsWith("$")) {
      const plain = name.slice(0, -1);
      parts.push(
        plain === "then"
          ? "Named `then$`: a `then` member would make the object a thenable, which `await` calls."
          : `Named \`${name}\`: \`${plain}\` is a built-in object property (escaped as protoc-gen-es does).`,
      );
    }
  }
  let tail = `@generated from ${desc.toString()}`;
  if (opts.deprecated) tail += "\n@deprecated";
  parts.push(tail);
  return parts.join("\n\n");
}
