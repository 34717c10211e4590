// The route guide's servicer (examples/route-guide/server.ts) under async-grpc/testing's
// testingServer: the test invokes it as a client would, steps fake time to make its
// deadline pass, and cancels it mid-stream, without a network to set up or a clock to wait on.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { StatusCode } from "../src/index.js";
import { strictFakeTime, testingServer, type TestingServer } from "../src/testing/index.js";
import { EVERYWHERE, LOOKUPS, NEARBY, NOTES, ROUTE } from "../examples/route-guide/client.js";
import { FEATURES } from "../examples/route-guide/features.js";
import { RouteGuide, type Feature, type RouteNote } from "../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { distanceMetres, inRectangle } from "../examples/route-guide/geo.js";
import { PACE_HEADER, routeGuideServicer, type AbortedCall } from "../examples/route-guide/server.js";
import { assertNoLeaks, eventually } from "./helpers.js";

const test = suite("examples/route-guide: the servicer, through testingServer");
const time = strictFakeTime(1_700_000_000);
const serverAborts: AbortedCall[] = [];
let server: TestingServer;

test.before(async () => {
  server = await testingServer([[RouteGuide, routeGuideServicer({ onAbort: (call) => serverAborts.push(call) })]], time);
});

test.before.each(() => {
  serverAborts.length = 0;
});

test.after(async () => {
  await server.close();
  await assertNoLeaks();
});

const names = (features: readonly { name: string }[]): string[] => features.map((f) => f.name);

/** Every response of a streaming RPC, taken after it ended. */
async function allResponses<T>(rpc: { takeResponse(): Promise<T>; termination(): Promise<unknown> }): Promise<T[]> {
  await rpc.termination();
  const out: T[] = [];
  for (;;) {
    try {
      out.push(await rpc.takeResponse());
    } catch {
      return out;
    }
  }
}

test("GetFeature (unary): a known feature, an empty spot, and an invalid point as INVALID_ARGUMENT", async () => {
  const [known, empty, invalid] = LOOKUPS;
  const found = await server.invokeUnaryUnary(RouteGuide.method.getFeature, undefined, known!, 2).termination();
  assert.is(found.code, StatusCode.OK);
  assert.is(found.response?.name, "Cobbler's Row Historic District, Main Street, Pellham, NJ");
  assert.equal(found.response?.location, known);
  const none = await server.invokeUnaryUnary(RouteGuide.method.getFeature, undefined, empty!).termination();
  assert.is(none.response?.name, "");
  assert.equal(none.response?.location, empty);
  const bad = await server.invokeUnaryUnary(RouteGuide.method.getFeature, undefined, invalid!).termination();
  assert.is(StatusCode[bad.code], "INVALID_ARGUMENT");
  assert.is(bad.details, "(91.00000, 0.00000) is not a valid location");
  assert.is(bad.response, undefined);
});

test("GetFeature: request metadata reaches the handler and comes back in the trailers", async () => {
  const { response, code, trailingMetadata } = await server.invokeUnaryUnary(RouteGuide.method.getFeature, { "x-request-id": "t-42" }, LOOKUPS[0]!).termination();
  assert.is(response?.name, FEATURES[6]!.name);
  assert.is(code, StatusCode.OK);
  assert.is(trailingMetadata.get("x-request-id"), "t-42");
});

test("ListFeatures (server streaming): exactly the features inside the rectangle, in order", async () => {
  const expected = FEATURES.filter((f) => inRectangle(NEARBY, f.location));
  assert.is(expected.length, 5);
  const rpc = server.invokeUnaryStream(RouteGuide.method.listFeatures, undefined, NEARBY);
  assert.equal(names(await allResponses(rpc)), names(expected));
});

test("ListFeatures over every feature, taken one by one, then status OK", async () => {
  const rpc = server.invokeUnaryStream(RouteGuide.method.listFeatures, undefined, EVERYWHERE);
  const received: Feature[] = [];
  for (let i = 0; i < FEATURES.length; i++) received.push(await rpc.takeResponse());
  assert.equal(names(received), names(FEATURES));
  const { code, details } = await rpc.termination();
  assert.is(code, StatusCode.OK);
  assert.is(details, "");
});

test("RecordRoute (client streaming): points, known features and distance", async () => {
  const rpc = server.invokeStreamUnary(RouteGuide.method.recordRoute, undefined);
  for (const point of ROUTE) await rpc.sendRequest(point);
  await rpc.requestsClosed();
  const { response: summary, code } = await rpc.termination();
  assert.is(code, StatusCode.OK);
  let distance = 0;
  for (let i = 1; i < ROUTE.length; i++) distance += distanceMetres(ROUTE[i - 1]!, ROUTE[i]!);
  assert.is(summary?.pointCount, 5);
  assert.is(summary?.featureCount, 3);
  assert.is(summary?.distance, Math.round(distance));
  assert.ok(summary!.distance > 5_000 && summary!.distance < 20_000, `distance ${summary?.distance} m`);
  assert.is(summary?.elapsedTime, 0);
});

test("RecordRoute with two points", async () => {
  const rpc = server.invokeStreamUnary(RouteGuide.method.recordRoute, undefined);
  for (const point of ROUTE.slice(0, 2)) await rpc.sendRequest(point);
  await rpc.requestsClosed();
  const { response } = await rpc.termination();
  assert.is(response?.pointCount, 2);
  assert.is(response?.featureCount, 1);
});

test("RouteChat (bidirectional): each note brings back the earlier notes at its location, as it is sent", async () => {
  const rpc = server.invokeStreamStream(RouteGuide.method.routeChat, undefined);
  const replies: RouteNote[] = [];
  await rpc.sendRequest(NOTES[0]!);
  await rpc.sendRequest(NOTES[1]!);
  await rpc.sendRequest(NOTES[2]!);
  // The third note is at the first's location: the first comes back before more is sent.
  replies.push(await rpc.takeResponse());
  assert.is(replies[0]!.message, "First message");
  for (const note of NOTES.slice(3)) await rpc.sendRequest(note);
  await rpc.requestsClosed();
  replies.push(...(await allResponses(rpc)));
  assert.equal(
    replies.map((n) => n.message),
    ["First message", "Second message", "First message", "Third message"],
  );
});

test("a deadline on fake time: ListFeatures fails with DEADLINE_EXCEEDED once the test steps past it, and the handler stops", async () => {
  // The handler paces itself on real time (300 ms a feature): the stream is far from over
  // when the test steps the fake time; the deadline is thirty fake seconds away.
  const rpc = server.invokeUnaryStream(RouteGuide.method.listFeatures, { [PACE_HEADER]: "300" }, EVERYWHERE, 30);
  const features = [await rpc.takeResponse()];
  await time.sleepFor(29.999);
  assert.is(serverAborts.length, 0);
  await time.sleepFor(0.001);
  const { code } = await rpc.termination();
  assert.is(StatusCode[code], "DEADLINE_EXCEEDED");
  await eventually(() => serverAborts.length > 0, "the handler to see context.signal abort");
  const seen = serverAborts[0]!;
  assert.is(seen.aborted, true);
  // Only the server's own timer ends the call: the reason is always DEADLINE_EXCEEDED.
  assert.is(StatusCode[seen.reason.code], "DEADLINE_EXCEEDED");
  assert.ok(seen.sent >= features.length && seen.sent < FEATURES.length, `the handler sent ${seen.sent} features`);
});

test("cancellation: cancel() after three features ends ListFeatures with CANCELLED, and the handler sees context.signal.aborted", async () => {
  const rpc = server.invokeUnaryStream(RouteGuide.method.listFeatures, { [PACE_HEADER]: "50" }, EVERYWHERE);
  const features = [await rpc.takeResponse(), await rpc.takeResponse(), await rpc.takeResponse()];
  assert.equal(names(features), names(FEATURES.slice(0, 3)));
  rpc.cancel();
  assert.is(StatusCode[(await rpc.termination()).code], "CANCELLED");
  await eventually(() => serverAborts.length > 0, "the handler to see context.signal abort");
  const seen = serverAborts[0]!;
  assert.is(seen.aborted, true);
  assert.is(StatusCode[seen.reason.code], "CANCELLED");
  assert.ok(seen.sent >= 3 && seen.sent <= 4, `the handler sent ${seen.sent} features`);
});

test.run();
