// The route guide's client functions (examples/route-guide/client.ts) under
// async-grpc/testing's testingChannel: the test plays the server, sees exactly what the
// client sent, answers it, and steps fake time to make the client's deadline pass.
import { create } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RpcError, StatusCode } from "../src/index.js";
import { strictFakeTime, testingChannel, type TestingChannel } from "../src/testing/index.js";
import {
  EVERYWHERE,
  getFeature,
  listFeatures,
  listFeaturesThenCancel,
  listFeaturesWithDeadline,
  LOOKUPS,
  NEARBY,
  NOTES,
  recordRoute,
  ROUTE,
  routeChat,
} from "../examples/route-guide/client.js";
import { FEATURES } from "../examples/route-guide/features.js";
import { RouteGuide, RouteSummarySchema } from "../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { RouteGuideClient } from "../examples/route-guide/gen/routeguide/route_guide_grpc.js";
import { inRectangle } from "../examples/route-guide/geo.js";
import { PACE_HEADER } from "../examples/route-guide/server.js";
import { assertNoLeaks, expectStatus } from "./helpers.js";

const test = suite("examples/route-guide: the client, through testingChannel");
const time = strictFakeTime(1_700_000_000);
let testing: TestingChannel;
let client: RouteGuideClient;

test.before(async () => {
  testing = await testingChannel([RouteGuide], time);
  client = new RouteGuideClient(testing.channel);
});

test.after(async () => {
  await testing.close();
  await assertNoLeaks();
});

/** A log that remembers its lines and can wait for one. */
function recorder(): { lines: string[]; log: (line: string) => void; seen(pattern: RegExp): Promise<void> } {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  return {
    lines,
    log(line) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) w.resolve();
    },
    seen(pattern) {
      if (lines.some((l) => pattern.test(l))) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

test("getFeature sends the point with a request id, and reports the feature and the trailers", async () => {
  const { lines, log } = recorder();
  const result = getFeature(client, LOOKUPS[0]!, log);
  const rpc = await testing.takeUnaryUnary(RouteGuide.method.getFeature);
  assert.equal(rpc.request, LOOKUPS[0]);
  assert.is(rpc.invocationMetadata().get("x-request-id"), "demo-1");
  rpc.terminate(FEATURES[6]!, { "x-request-id": "demo-1" }, StatusCode.OK);
  assert.is((await result).name, "Cobbler's Row Historic District, Main Street, Pellham, NJ");
  assert.equal(lines, ['Found "Cobbler\'s Row Historic District, Main Street, Pellham, NJ" at (40.78390, -74.61440)', "  trailing metadata: x-request-id=demo-1"]);
});

test("getFeature: the server's INVALID_ARGUMENT reaches the caller as an RpcError with code and details", async () => {
  const result = getFeature(client, LOOKUPS[2]!);
  const rpc = await testing.takeUnaryUnary(RouteGuide.method.getFeature);
  rpc.terminate(undefined, undefined, StatusCode.INVALID_ARGUMENT, "(91.00000, 0.00000) is not a valid location");
  const err = await expectStatus(result, StatusCode.INVALID_ARGUMENT);
  assert.is(err.details, "(91.00000, 0.00000) is not a valid location");
});

test("getFeature gives up after its two seconds, on the test's clock", async () => {
  const failed = expectStatus(getFeature(client, LOOKUPS[1]!), StatusCode.DEADLINE_EXCEEDED);
  const rpc = await testing.takeUnaryUnary(RouteGuide.method.getFeature);
  await time.sleepFor(2);
  await failed;
  await rpc.cancelled();
});

test("listFeatures collects every feature the server streams, in order, and reports the status", async () => {
  const { lines, log } = recorder();
  const result = listFeatures(client, NEARBY, log);
  const rpc = await testing.takeUnaryStream(RouteGuide.method.listFeatures);
  assert.equal(rpc.request, NEARBY);
  const expected = FEATURES.filter((f) => inRectangle(NEARBY, f.location));
  for (const feature of expected) await rpc.sendResponse(feature);
  rpc.terminate(undefined, StatusCode.OK);
  assert.equal(
    (await result).map((f) => f.name),
    expected.map((f) => f.name),
  );
  assert.is(lines.at(-1), "5 features, status OK");
});

test("recordRoute streams the route point by point and returns the server's summary", async () => {
  const { lines, log } = recorder();
  const result = recordRoute(client, ROUTE, log);
  const rpc = await testing.takeStreamUnary(RouteGuide.method.recordRoute);
  for (const point of ROUTE) assert.equal(await rpc.takeRequest(), point);
  await rpc.requestsClosed();
  rpc.terminate(create(RouteSummarySchema, { pointCount: 5, featureCount: 3, distance: 9000 }), undefined, StatusCode.OK);
  const summary = await result;
  assert.equal([summary.pointCount, summary.featureCount, summary.distance], [5, 3, 9000]);
  assert.is(lines.filter((l) => l.startsWith("Visiting")).length, 5);
  assert.is(lines.at(-1), "Summary: 5 points, 3 known features, 9000 m, 0 s");
});

test("routeChat writes every note and collects the server's replies as they come", async () => {
  const result = routeChat(client, NOTES);
  const rpc = await testing.takeStreamStream(RouteGuide.method.routeChat);
  for (const note of NOTES) {
    const received = await rpc.takeRequest();
    assert.is(received.message, note.message);
    await rpc.sendResponse({ message: `re: ${received.message}`, location: received.location });
  }
  await rpc.requestsClosed();
  rpc.terminate(undefined, StatusCode.OK);
  assert.equal(
    (await result).map((n) => n.message),
    NOTES.map((n) => `re: ${n.message}`),
  );
});

test("a deadline on fake time: listFeaturesWithDeadline ends DEADLINE_EXCEEDED with what arrived first", async () => {
  const { lines, log, seen } = recorder();
  const result = listFeaturesWithDeadline(client, 200, 150, log);
  const rpc = await testing.takeUnaryStream(RouteGuide.method.listFeatures);
  assert.is(rpc.invocationMetadata().get(PACE_HEADER), "150");
  await rpc.sendResponse(FEATURES[0]!);
  await seen(/Quarry Hill/);
  let over = false;
  void result.then(() => (over = true));
  await time.sleepFor(0.199);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(over, false, "the call ended before its deadline");
  await time.sleepFor(0.001);
  const { features, error } = await result;
  assert.ok(error instanceof RpcError);
  assert.is(StatusCode[error.code], "DEADLINE_EXCEEDED");
  assert.equal(
    features.map((f) => f.name),
    [FEATURES[0]!.name],
  );
  assert.is(lines.at(-1), 'RpcError DEADLINE_EXCEEDED after 1 feature: "Deadline Exceeded"');
  await rpc.cancelled();
});

test("cancellation: listFeaturesThenCancel aborts after three features and the server sees it cancelled", async () => {
  const result = listFeaturesThenCancel(client, 3, 50);
  const rpc = await testing.takeUnaryStream(RouteGuide.method.listFeatures);
  assert.equal(rpc.request, EVERYWHERE);
  assert.is(rpc.invocationMetadata().get(PACE_HEADER), "50");
  const cancelled = rpc.cancelled();
  for (const feature of FEATURES.slice(0, 3)) await rpc.sendResponse(feature);
  await cancelled;
  const { features, error } = await result;
  assert.is(StatusCode[error.code], "CANCELLED");
  assert.equal(
    features.map((f) => f.name),
    FEATURES.slice(0, 3).map((f) => f.name),
  );
});

test("breaking out of a for-await loop cancels the call on the server too", async () => {
  const call = client.listFeatures(EVERYWHERE);
  const rpc = await testing.takeUnaryStream(RouteGuide.method.listFeatures);
  await rpc.sendResponse(FEATURES[0]!);
  await rpc.sendResponse(FEATURES[1]!);
  for await (const feature of call) {
    assert.is(feature.name, FEATURES[0]!.name);
    break;
  }
  assert.is(await call.code(), StatusCode.CANCELLED);
  await rpc.cancelled();
});

test.run();
