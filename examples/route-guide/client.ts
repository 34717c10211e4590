// The route guide client: one function per call kind, plus a deadline and a
// cancellation, all through the generated client class `RouteGuideClient` (see demo.ts).
import { create } from "@bufbuild/protobuf";
import { setTimeout as sleep } from "node:timers/promises";
import { EOF, RpcError, StatusCode } from "../../src/index.js";
import {
  PointSchema,
  RectangleSchema,
  RouteNoteSchema,
  type Feature,
  type Point,
  type Rectangle,
  type RouteNote,
  type RouteSummary,
} from "./gen/routeguide/route_guide_pb.js";
import type { RouteGuideClient } from "./gen/routeguide/route_guide_grpc.js";
import { FEATURES } from "./features.js";
import { formatPoint, toE7 } from "./geo.js";
import { PACE_HEADER } from "./server.js";

/** Where the functions below report progress; silent by default. */
export type Log = (line: string) => void;
const quiet: Log = () => {};
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** Unary: the feature at `point`. A request id goes out as metadata and comes back in the trailers. */
export async function getFeature(client: RouteGuideClient, point: Point, log: Log = quiet): Promise<Feature> {
  // #region get-feature
  const call = client.getFeature(point, { timeoutMs: 2000, metadata: { "x-request-id": "demo-1" } });
  const feature = await call; // a Feature, or a thrown RpcError
  const trailers = await call.trailingMetadata();
  // #endregion
  if (feature.name !== "") log(`Found "${feature.name}" at ${formatPoint(feature.location)}`);
  else log(`Found no feature at ${formatPoint(point)}`);
  log(`  trailing metadata: x-request-id=${String(trailers.get("x-request-id"))}`);
  return feature;
}

/** Server streaming: the features in `rectangle`, printed as they arrive. */
export async function listFeatures(client: RouteGuideClient, rectangle: Rectangle, log: Log = quiet): Promise<Feature[]> {
  const features: Feature[] = [];
  // #region list-features
  const call = client.listFeatures(rectangle, { timeoutMs: 5000 });
  for await (const feature of call) {
    features.push(feature);
    log(`${formatPoint(feature.location)} ${feature.name}`);
  }
  log(`${features.length} features, status ${StatusCode[await call.code()]}`);
  // #endregion
  return features;
}

// #region record-route
/** Yields `points` one by one with a pause in between, like someone walking the route. */
export async function* walk(points: Iterable<Point>, pauseMs: number, log: Log = quiet): AsyncGenerator<Point> {
  for (const point of points) {
    log(`Visiting ${formatPoint(point)}`);
    yield point;
    await sleep(pauseMs);
  }
}

/** Client streaming: sends a route (an async generator of points) and gets its summary. */
export async function recordRoute(client: RouteGuideClient, points: Iterable<Point>, log: Log = quiet): Promise<RouteSummary> {
  const summary = await client.recordRoute(walk(points, 20, log), { timeoutMs: 5000 });
  log(`Summary: ${summary.pointCount} points, ${summary.featureCount} known features, ${summary.distance} m, ${summary.elapsedTime} s`);
  return summary;
}
// #endregion

/** Bidirectional streaming: writes `notes` while reading the server's replies. */
export async function routeChat(client: RouteGuideClient, notes: Iterable<RouteNote>, log: Log = quiet): Promise<RouteNote[]> {
  const replies: RouteNote[] = [];
  // #region route-chat
  const chat = client.routeChat(undefined, { timeoutMs: 5000 });
  const reading = (async () => {
    for (let reply = await chat.read(); reply !== EOF; reply = await chat.read()) {
      replies.push(reply);
      log(`    <- "${reply.message}" at ${formatPoint(reply.location)}`);
    }
  })();
  for (const note of notes) {
    log(`-> "${note.message}" at ${formatPoint(note.location)}`);
    await chat.write(note);
    await sleep(20); // a moment to walk on, so that the replies interleave
  }
  await chat.doneWriting();
  await reading;
  // #endregion
  return replies;
}

/** A call that did not end OK: what it delivered first, and how it ended. */
export interface Interrupted {
  features: Feature[];
  error: RpcError;
}

/**
 * A deadline: ListFeatures over every feature, with the server pausing `paceMs`
 * before each one, but only `timeoutMs` for the whole call.
 */
export async function listFeaturesWithDeadline(client: RouteGuideClient, timeoutMs: number, paceMs: number, log: Log = quiet): Promise<Interrupted> {
  const features: Feature[] = [];
  // #region deadline
  const call = client.listFeatures(EVERYWHERE, { timeoutMs, metadata: { [PACE_HEADER]: String(paceMs) } });
  try {
    for await (const feature of call) {
      features.push(feature);
      log(`${formatPoint(feature.location)} ${feature.name}`);
    }
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    log(`RpcError ${StatusCode[err.code]} after ${plural(features.length, "feature")}: "${err.details}"`);
    return { features, error: err };
  }
  // #endregion
  throw new Error(`ListFeatures finished within ${timeoutMs} ms; expected DEADLINE_EXCEEDED`);
}

/** Cancellation: ListFeatures that the caller abandons through an AbortController after `count` features. */
export async function listFeaturesThenCancel(client: RouteGuideClient, count: number, paceMs: number, log: Log = quiet): Promise<Interrupted> {
  const features: Feature[] = [];
  // #region cancel
  const controller = new AbortController();
  const call = client.listFeatures(EVERYWHERE, { signal: controller.signal, metadata: { [PACE_HEADER]: String(paceMs) } });
  try {
    for await (const feature of call) {
      features.push(feature);
      log(`${formatPoint(feature.location)} ${feature.name}`);
      if (features.length === count) {
        log("That will do: controller.abort()");
        controller.abort();
      }
    }
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    log(`RpcError ${StatusCode[err.code]} after ${plural(features.length, "feature")}: "${err.details}"`);
    return { features, error: err };
  }
  // #endregion
  throw new Error("ListFeatures finished before it was cancelled");
}

// ---- inputs for the demo and the tests ------------------------------------------

const point = (latitude: number, longitude: number): Point => create(PointSchema, { latitude: toE7(latitude), longitude: toE7(longitude) });
const note = (message: string, location: Point): RouteNote => create(RouteNoteSchema, { message, location });

/** A rectangle around Bexley and Pellham, with a handful of features. */
export const NEARBY: Rectangle = create(RectangleSchema, { lo: point(40.74, -74.7), hi: point(40.8, -74.44) });
/** A rectangle holding every feature of the database. */
export const EVERYWHERE: Rectangle = create(RectangleSchema, { lo: point(40, -75), hi: point(41, -74) });
/** Points for GetFeature: a known feature, an empty field, and a latitude beyond the pole. */
export const LOOKUPS: readonly Point[] = [FEATURES[6]!.location!, point(40.75, -74.75), point(91, 0)];
/** A walk past three known features, with a field in between each. */
export const ROUTE: readonly Point[] = [
  FEATURES[8]!.location!,
  point(40.7555, -74.63),
  FEATURES[9]!.location!,
  point(40.72, -74.61),
  FEATURES[12]!.location!,
];
/** Notes at two places; the third, fourth and fifth find earlier notes where they are sent. */
export const NOTES: readonly RouteNote[] = [
  note("First message", point(40.7, -74.6)),
  note("Second message", point(40.7, -74.5)),
  note("Third message", point(40.7, -74.6)),
  note("Fourth message", point(40.7, -74.5)),
  note("Fifth message", point(40.7, -74.6)),
];
