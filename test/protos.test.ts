// Runtime .proto loading (src/protos/): loadProtos(), protos(), services() and
// protosAndServices() compile sources with no prior codegen; the descriptors serve and
// call real RPCs (also against the generated descriptors of the same proto); imports
// across include folders, well-known types, nested types, maps, oneofs, proto3
// optional, proto2 and editions; errors at file:line:column.
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  insecureChannel,
  loadProtos,
  ProtoLoadError,
  protos,
  protosAndServices,
  services,
  StatusCode,
} from "../src/index.js";
import { scanImports } from "../src/protos/imports.js";
import { RouteGuide as GeneratedRouteGuide } from "../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { assertNoLeaks, expectStatus, startServer } from "./helpers.js";

// This file runs as dist/test/protos.test.js; the protos are read from the repository.
const repo = fileURLToPath(new URL("../../", import.meta.url));
const routeGuideDir = join(repo, "examples/route-guide/proto");

// A descriptor loaded at run time is a plain DescService: createClient() gives it methods
// usable as every call kind, whose messages have no static fields (read them by name).
const field = (message: object, name: string): unknown => Reflect.get(message, name);

let scratch: string;
/** Writes `files` (import path -> source) under a fresh folder; returns it. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(scratch, "tree-"));
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), source);
  }
  return dir;
}

function loadError(fn: () => unknown): ProtoLoadError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ProtoLoadError);
    return err as ProtoLoadError;
  }
  assert.unreachable("expected a ProtoLoadError");
  throw new Error("unreachable");
}

const test = suite("runtime .proto loading");

test.before(() => {
  scratch = mkdtempSync(join(tmpdir(), "async-grpc-protos-test-"));
});

test.after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await assertNoLeaks();
});

test("loadProtos: the messages and services of a file, by full name, and the registry of everything", () => {
  const loaded = loadProtos("routeguide/route_guide.proto", { includeDirs: [routeGuideDir] });
  assert.equal(loaded.files.map((f) => f.proto.name), ["routeguide/route_guide.proto"]);
  assert.equal(Object.keys(loaded.messages).sort(), ["routeguide.Feature", "routeguide.Point", "routeguide.Rectangle", "routeguide.RouteNote", "routeguide.RouteSummary"]);
  const service = loaded.services["routeguide.RouteGuide"]!;
  assert.equal(
    service.methods.map((m) => `${m.name}:${m.methodKind}`),
    ["GetFeature:unary", "ListFeatures:server_streaming", "RecordRoute:client_streaming", "RouteChat:bidi_streaming"],
  );
  assert.is(loaded.registry.getMessage("routeguide.Point"), loaded.messages["routeguide.Point"]);
  // The comments come along (buf keeps source info).
  assert.ok((loaded.files[0]!.proto.sourceCodeInfo?.location.length ?? 0) > 0, "source info");
});

test("a runtime-loaded service serves and calls real RPCs, and talks to the generated descriptors of the same proto", async () => {
  const [routeguide, { RouteGuide }] = protosAndServices("routeguide/route_guide.proto", { includeDirs: [routeGuideDir] });
  const Point = routeguide.Point!;
  const { server, target } = await startServer((s) =>
    s.addService(
      RouteGuide!,
      {
        getFeature: (point: { latitude: number; longitude: number }) => ({ name: `at ${point.latitude},${point.longitude}`, location: point }),
        listFeatures: async function* (rect: { lo?: { latitude: number } }) {
          for (let i = 0; i < 3; i++) yield { name: `feature ${i} from ${rect.lo?.latitude}` };
        },
      },
    ),
  );
  const channel = insecureChannel(target);
  try {
    const client = createClient(RouteGuide!, channel);
    const feature = await client.getFeature(create(Point, { latitude: 1, longitude: 2 }));
    assert.is(field(feature, "name"), "at 1,2");
    assert.is(feature.$typeName, "routeguide.Feature");
    const names: unknown[] = [];
    for await (const f of client.listFeatures({ lo: { latitude: 5 } })) names.push(field(f, "name"));
    assert.equal(names, ["feature 0 from 5", "feature 1 from 5", "feature 2 from 5"]);

    // The generated client of the same proto against the runtime-loaded server.
    const generated = createClient(GeneratedRouteGuide, channel);
    assert.is((await generated.getFeature({ latitude: 3, longitude: 4 })).name, "at 3,4");
  } finally {
    await channel.close();
    await server.stop(null);
  }
});

test("loadProtos: every call kind of a runtime-loaded service, with no cast (for await on the streams)", async () => {
  const loaded = loadProtos("routeguide/route_guide.proto", { includeDirs: [routeGuideDir] });
  const RouteGuide = loaded.services["routeguide.RouteGuide"]!;
  type Point = { latitude: number; longitude: number };
  const { server, target } = await startServer((s) =>
    s.addService(RouteGuide, {
      async *listFeatures(rect: { lo?: Point; hi?: Point }) {
        for (let latitude = rect.lo?.latitude ?? 0; latitude <= (rect.hi?.latitude ?? 0); latitude++) {
          yield { name: `feature at ${latitude}`, location: { latitude, longitude: 0 } };
        }
      },
      async recordRoute(points: AsyncIterable<Point>) {
        let pointCount = 0;
        for await (const _ of points) pointCount++;
        return { pointCount };
      },
      async *routeChat(notes: AsyncIterable<{ message: string }>) {
        for await (const note of notes) yield { message: `re: ${note.message}` };
      },
    }),
  );
  const channel = insecureChannel(target);
  try {
    const client = createClient(RouteGuide, channel);
    const names: unknown[] = [];
    for await (const feature of client.listFeatures({ lo: { latitude: 1 }, hi: { latitude: 3 } }, { timeoutMs: 5000 })) {
      assert.is(feature.$typeName, "routeguide.Feature");
      names.push(field(feature, "name"));
    }
    assert.equal(names, ["feature at 1", "feature at 2", "feature at 3"]);

    assert.is(field(await client.recordRoute([{ latitude: 1 }, { latitude: 2 }]), "pointCount"), 2);

    const replies: unknown[] = [];
    for await (const note of client.routeChat([{ message: "a" }, { message: "b" }])) replies.push(field(note, "message"));
    assert.equal(replies, ["re: a", "re: b"]);

    // The unimplemented unary method answers its status; awaiting it gives the error.
    await expectStatus(client.getFeature({ latitude: 1 }), StatusCode.UNIMPLEMENTED);
  } finally {
    await channel.close();
    await server.stop(null);
  }
});

test("imports across include folders, and the well-known types without supplying them", () => {
  const common = tree({
    "shared/v1/shared.proto": `
      syntax = "proto3";
      package shared.v1;
      message Tag { string key = 1; }
      enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; }
    `,
  });
  const app = tree({
    "app/v1/app.proto": `
      syntax = "proto3";
      package app.v1;
      import "shared/v1/shared.proto";
      import public "google/protobuf/timestamp.proto";
      import "google/protobuf/any.proto";
      import "google/protobuf/struct.proto";
      import "google/protobuf/wrappers.proto";
      import "google/protobuf/duration.proto";
      import "google/protobuf/empty.proto";
      import "google/protobuf/field_mask.proto";
      import "google/protobuf/descriptor.proto";

      message Event {
        message Detail {                  // nested message
          enum Level { LEVEL_UNSPECIFIED = 0; LEVEL_HIGH = 1; }
          Level level = 1;
        }
        google.protobuf.Timestamp at = 1;
        map<string, shared.v1.Tag> tags = 2;
        oneof payload {
          string text = 3;
          google.protobuf.Struct data = 4;
        }
        optional int32 retries = 5;     // proto3 optional
        shared.v1.Color color = 6;
        Detail detail = 7;
        google.protobuf.Any extra = 8;
        google.protobuf.StringValue note = 9;
        google.protobuf.Duration took = 10;
        google.protobuf.FieldMask mask = 11;
      }
      service Events {
        rpc Publish(Event) returns (google.protobuf.Empty);
      }
    `,
  });
  const loaded = loadProtos("app/v1/app.proto", { includeDirs: [app, common] });
  const event = loaded.messages["app.v1.Event"]!;
  assert.ok(loaded.messages["app.v1.Event.Detail"], "nested message");
  assert.ok(loaded.enums["app.v1.Event.Detail.Level"], "nested enum");
  assert.is(event.field.tags!.fieldKind, "map");
  assert.equal(event.oneofs.map((o) => o.name), ["payload"]);
  assert.ok(event.field.retries!.proto.proto3Optional, "proto3 optional");
  assert.is(event.field.at!.message?.typeName, "google.protobuf.Timestamp");
  assert.ok(loaded.registry.getFile("google/protobuf/descriptor.proto"), "google/protobuf/descriptor.proto");
  assert.is(loaded.services["app.v1.Events"]!.methods[0]!.output.typeName, "google.protobuf.Empty");

  // The descriptors encode and decode.
  const message = create(event, {
    at: timestampFromDate(new Date(0)),
    tags: { a: { key: "x" } },
    payload: { case: "text", value: "hello" },
    retries: 0,
    color: 1,
  } as never);
  const back = fromBinary(event, toBinary(event, message)) as unknown as Record<string, unknown>;
  assert.equal((back.tags as Record<string, { key: string }>).a!.key, "x");
  assert.equal(back.payload, { case: "text", value: "hello" });
  assert.is(back.retries, 0, "presence kept for proto3 optional");
});

test("proto2 (groups, extensions, defaults) and editions files", () => {
  const dir = tree({
    "legacy.proto": `
      syntax = "proto2";
      package legacy;
      message Old {
        optional int32 count = 1 [default = 7];
        repeated group Item = 2 { optional string name = 3; }
        extensions 100 to 199;
      }
      extend Old { optional string note = 100; }
    `,
    "modern.proto": `
      edition = "2023";
      package modern;
      option features.field_presence = IMPLICIT;
      message New {
        int32 plain = 1;
        int32 tracked = 2 [features.field_presence = EXPLICIT];
      }
    `,
  });
  const loaded = loadProtos(["legacy.proto", "modern.proto"], { includeDirs: [dir] });
  assert.equal(loaded.files.map((f) => f.proto.name), ["legacy.proto", "modern.proto"]);
  const old = loaded.messages["legacy.Old"]!;
  const count = old.field.count!;
  assert.ok(count.fieldKind === "scalar");
  assert.is(count.getDefaultValue(), 7);
  assert.ok(loaded.messages["legacy.Old.Item"], "group");
  assert.ok(loaded.registry.getExtension("legacy.note"), "extension");
  const modern = loaded.messages["modern.New"]!;
  assert.is(loaded.files[1]!.edition, 1000); // EDITION_2023
  assert.is.not(modern.field.plain!.presence, modern.field.tracked!.presence);
});

test("a syntax error points at file:line:column", () => {
  const dir = tree({
    "bad.proto": 'syntax = "proto3";\npackage bad;\n\nmessage M {\n  int32 a = 1\n  int32 b = 2;\n}\n',
  });
  const err = loadError(() => loadProtos("bad.proto", { includeDirs: [dir] }));
  assert.is(err.file, join(dir, "bad.proto"));
  assert.is(err.line, 6);
  assert.is(err.column, 3);
  assert.ok(err.message.startsWith(`${join(dir, "bad.proto")}:6:3: `), err.message);
  assert.ok(err.diagnostics.length >= 1);
});

test("an error in an imported file names that file; a missing import says what was searched", () => {
  const dir = tree({
    "top.proto": 'syntax = "proto3";\nimport "sub/child.proto";\nimport "nowhere/missing.proto";\n',
    "sub/child.proto": 'syntax = "proto3";\nmessage Child { strin name = 1; }\n',
  });
  const err = loadError(() => loadProtos(join(dir, "top.proto")));
  const child = err.diagnostics.find((d) => d.file === join(dir, "sub/child.proto"));
  assert.ok(child, err.message);
  assert.is(child.line, 2);
  assert.is(child.column, 17);
  const missing = err.diagnostics.find((d) => d.file === join(dir, "top.proto"));
  assert.ok(missing, err.message);
  assert.is(missing.line, 3);
  assert.match(missing.message, `"nowhere/missing.proto" (searched ${dir})`);
});

test("a file that does not exist", () => {
  const err = loadError(() => loadProtos("nope.proto", { includeDirs: [scratch] }));
  assert.match(err.message, /^nope\.proto: file not found \(searched /);
});

test("a path outside the include folders: its own folder is searched for its imports", () => {
  const dir = tree({
    "main.proto": 'syntax = "proto3";\nimport "dep.proto";\nservice S { rpc M(Dep) returns (Dep); }\n',
    "dep.proto": 'syntax = "proto3";\nmessage Dep {}\n',
  });
  const loaded = loadProtos(join(dir, "main.proto"), { includeDirs: [routeGuideDir] });
  assert.equal(Object.keys(loaded.services), ["S"]);
  assert.is(loaded.services.S!.methods[0]!.input.typeName, "Dep");
});

test("protos(), services(): names within the package, nested ones dotted; loaded once", () => {
  const dir = tree({
    "pkg/a.proto": 'syntax = "proto3";\npackage deep.pkg;\nmessage Outer { message Inner {} }\nservice Alpha { rpc Go(Outer) returns (Outer.Inner); }\nservice Beta { rpc Go(Outer) returns (Outer); }\n',
  });
  const options = { includeDirs: [dir] };
  const messages = protos("pkg/a.proto", options);
  assert.equal(Object.keys(messages).sort(), ["Outer", "Outer.Inner"]);
  assert.is((messages["Outer.Inner"] as DescMessage).typeName, "deep.pkg.Outer.Inner");
  const svc = services("pkg/a.proto", options);
  assert.equal(Object.keys(svc), ["Alpha", "Beta"]);
  assert.is(svc.Alpha!.typeName, "deep.pkg.Alpha");
  assert.is(protos("pkg/a.proto", options), messages, "the second load is cached");
  assert.ok(Object.isFrozen(svc));
});

test("a file without a package: its service is called at /Service/Method", async () => {
  const dir = tree({ "lonely.proto": 'syntax = "proto3";\nservice Lonely { rpc Ping(Msg) returns (Msg); }\nmessage Msg { string text = 1; }\n' });
  const { Lonely } = services("lonely.proto", { includeDirs: [dir] });
  assert.is(Lonely!.typeName, "Lonely");
  const { server, target } = await startServer((s) => s.addService(Lonely!, { ping: (m: { text: string }) => ({ text: `pong ${m.text}` }) }));
  const channel = insecureChannel(target);
  try {
    const raw = channel.unaryUnary("/Lonely/Ping");
    const msg = protos("lonely.proto", { includeDirs: [dir] }).Msg!;
    const reply = await raw(toBinary(msg, create(msg, { text: "hi" } as never)));
    assert.is((fromBinary(msg, reply) as unknown as { text: string }).text, "pong hi");
  } finally {
    await channel.close();
    await server.stop(null);
  }
});

test("bufPath: a missing executable is a clear error", () => {
  try {
    loadProtos("routeguide/route_guide.proto", { includeDirs: [routeGuideDir], bufPath: join(scratch, "no-such-buf") });
    assert.unreachable("expected an error");
  } catch (err) {
    assert.not.instance(err, ProtoLoadError);
    assert.match(String(err), /Cannot run the buf compiler/);
  }
});

const scan = suite("runtime .proto loading: the import scan");

scan("finds import, import public and import weak, with positions", () => {
  const source = 'syntax = "proto3";\nimport "a.proto";\n  import public "b/c.proto";\nimport weak \'d.proto\';\n';
  assert.equal(scanImports(source), [
    { path: "a.proto", line: 2, column: 1 },
    { path: "b/c.proto", line: 3, column: 3 },
    { path: "d.proto", line: 4, column: 1 },
  ]);
});

scan("skips comments and strings, and fields or types named import", () => {
  const source = [
    'syntax = "proto3";',
    '// import "comment.proto";',
    '/* import "block.proto";',
    '   import "still-block.proto"; */',
    'option java_package = "import \\"x.proto\\";";',
    "message import { int32 import = 1; }",
    "message M { import x = 1; }",
    'import "real.proto";',
  ].join("\n");
  assert.equal(scanImports(source).map((i) => i.path), ["real.proto"]);
});

scan("adjacent strings concatenate and escapes decode", () => {
  assert.equal(scanImports('import "a/" "b.proto";\nimport "\\x63.proto";').map((i) => i.path), ["a/b.proto", "c.proto"]);
});

test.run();
scan.run();
