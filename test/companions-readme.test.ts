// The README's companion snippets, run: each `// #region` below is quoted verbatim in
// the README (checked here), and runs against a real server.
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, createServer, insecureChannel, RpcError, StatusCode, type Server } from "../src/index.js";
import { HealthClient, HealthServicer, ServingStatus } from "../src/health/index.js";
import { ProtoReflectionDescriptorDatabase, enableServerReflection } from "../src/reflection/index.js";
import { BadRequestSchema, fromError, toStatus, unpackDetails } from "../src/status/index.js";
import { inProcessChannel, strictFakeTime, testingChannel, testingServer } from "../src/testing/index.js";
import { PointSchema, RouteGuide } from "../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { routeGuideServicer } from "../examples/route-guide/server.js";
import { getFeature } from "../examples/route-guide/client.js";
import { addRouteGuideServicerToServer, RouteGuideClient } from "../examples/route-guide/gen/routeguide/route_guide_grpc.js";
import { assertNoLeaks, startServer } from "./helpers.js";

const test = suite("README: companion snippets");
const repo = new URL("../../", import.meta.url);

test("rich status: abortWithStatus(toStatus(...)) on the server, fromError() on the client", async () => {
  const started = await startServer((server) =>
    server.addService(RouteGuide, {
      getFeature(_point, context) {
        // #region rich-status-server
        return context.abortWithStatus(
          toStatus({
            code: StatusCode.INVALID_ARGUMENT,
            message: "bad point",
            details: [anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: "latitude", description: "out of range" }] }))],
          }),
        );
        // #endregion
      },
    }),
  );
  const channel = insecureChannel(started.target);
  try {
    const err = await createClient(RouteGuide, channel).getFeature({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RpcError);
    // #region rich-status-client
    const status = fromError(err); // a google.rpc.Status, or undefined
    const details = unpackDetails(status!); // [BadRequest { fieldViolations: [...] }]
    // #endregion
    assert.is(status?.message, "bad point");
    assert.is(details[0]?.$typeName, "google.rpc.BadRequest");
  } finally {
    await channel.close();
    await started.server.stop(null);
  }
});

test("health and reflection on a server; a client checks health and reads the descriptors", async () => {
  let servicer!: HealthServicer;
  const started = await startServer((server: Server) => {
    server.addService(RouteGuide, routeGuideServicer());
    // #region health-server
    const health = new HealthServicer();
    health.addToServer(server); // server.stop() turns it NOT_SERVING first
    health.set("routeguide.RouteGuide", ServingStatus.SERVING);
    // #endregion
    servicer = health;
    // #region reflection-server
    enableServerReflection(server);
    // #endregion
  });
  const channel = insecureChannel(started.target);
  try {
    // #region health-client
    const { status } = await new HealthClient(channel).check({ service: "routeguide.RouteGuide" });
    // #endregion
    assert.is(status, ServingStatus.SERVING);
    // #region reflection-client
    const reflection = new ProtoReflectionDescriptorDatabase(channel);
    const registry = await reflection.registry(); // every service the server lists
    const routeGuide = createClient(registry.getService("routeguide.RouteGuide")!, channel);
    await reflection.close();
    // #endregion
    const feature = (await routeGuide.getFeature({ latitude: 407839000, longitude: -746144000 })) as unknown as { name: string };
    assert.match(feature.name, /Cobbler/);
  } finally {
    await channel.close();
    await started.server.stop(null);
  }
  assert.is(servicer.status(""), ServingStatus.NOT_SERVING);
});

test("testing: a servicer under testingServer and client code under testingChannel, on fake time", async () => {
  const point = create(PointSchema, { latitude: 407839000, longitude: -746144000 });
  // #region testing-server
  const time = strictFakeTime(0);
  const server = await testingServer([[RouteGuide, routeGuideServicer()]], time);
  const rpc = server.invokeUnaryUnary(RouteGuide.method.getFeature, { "x-request-id": "42" }, point, 2);
  const { response, trailingMetadata, code, details } = await rpc.termination();
  await server.close();
  // #endregion
  assert.match(response!.name, /Cobbler/);
  assert.is(trailingMetadata.get("x-request-id"), "42");
  assert.equal([code, details], [StatusCode.OK, ""]);

  // #region testing-channel
  const testing = await testingChannel([RouteGuide], time);
  const found = getFeature(new RouteGuideClient(testing.channel), point).catch((e: unknown) => e); // the code under test
  const call = await testing.takeUnaryUnary(RouteGuide.method.getFeature);
  // call.request is the point; call.invocationMetadata() has its x-request-id
  await time.sleepFor(2); // past the client's timeoutMs: 2000
  await call.cancelled(); // the client gave up
  await testing.close();
  // #endregion
  assert.equal(call.request, point);
  assert.is(call.invocationMetadata().get("x-request-id"), "demo-1");
  const err = await found;
  assert.ok(err instanceof RpcError);
  assert.is(StatusCode[err.code], "DEADLINE_EXCEEDED");
});

test("testing: a server with no port, called through inProcessChannel", async () => {
  const point = create(PointSchema, { latitude: 407839000, longitude: -746144000 });
  // #region in-process
  const server = createServer();
  addRouteGuideServicerToServer(routeGuideServicer(), server);
  await server.start(); // no addInsecurePort
  const channel = inProcessChannel(server);
  const client = new RouteGuideClient(channel);
  // #endregion
  try {
    assert.match((await client.getFeature(point)).name, /Cobbler/);
  } finally {
    await channel.close();
    await server.stop(null);
  }
});

test("the README quotes every snippet above", () => {
  const readme = readFileSync(new URL("README.md", repo), "utf8");
  const source = readFileSync(new URL("test/companions-readme.test.ts", repo), "utf8");
  let count = 0;
  for (const match of source.matchAll(/^([ \t]*)\/\/ #region (\S+)\n([\s\S]*?)^[ \t]*\/\/ #endregion$/gm)) {
    const lines = match[3]!.replace(/\n$/, "").split("\n");
    const cut = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length));
    const code = lines.map((l) => l.slice(cut).trimEnd()).join("\n");
    assert.ok(readme.includes(code), `README lacks the current text of the "${match[2]}" snippet:\n${code}`);
    count++;
  }
  assert.is(count, 9);
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
