// The route guide server: a servicer for the four RouteGuide methods, and `serve()`
// to run it on a port (the tests start it on 127.0.0.1:0; the demo spells the same
// steps out, as the README's quick start shows them).
import { setTimeout as sleep } from "node:timers/promises";
import { createServer, RpcError, StatusCode, type Metadata, type Server } from "../../src/index.js";
import type { Feature, Point, RouteNote } from "./gen/routeguide/route_guide_pb.js";
import { addRouteGuideServicerToServer, type RouteGuideServicer } from "./gen/routeguide/route_guide_grpc.js";
import { FEATURES } from "./features.js";
import { distanceMetres, formatPoint, inRectangle, isValidPoint, sameLocation } from "./geo.js";

/**
 * Request metadata asking ListFeatures to pause this many milliseconds (at most 1000)
 * before each feature: a stand-in for a slow data store, so that deadlines and
 * cancellation have something to interrupt.
 */
export const PACE_HEADER = "x-pace-ms";

/** What a streaming handler saw when `context.signal` aborted. */
export interface AbortedCall {
  method: string;
  /** `context.signal.aborted` as the handler read it. */
  aborted: boolean;
  /** The signal's reason (an RpcError): CANCELLED, DEADLINE_EXCEEDED or UNAVAILABLE. */
  reason: RpcError;
  /** Responses sent before the abort. */
  sent: number;
}

export interface RouteGuideOptions {
  /** The feature database; the bundled one by default. */
  features?: readonly Feature[];
  /** Called when a handler stops because its call was cancelled or timed out. */
  onAbort?: (call: AbortedCall) => void;
}

// #region servicer
/** The RouteGuide servicer (gRPC Python's `RouteGuideServicer`). */
export function routeGuideServicer(options: RouteGuideOptions = {}): RouteGuideServicer {
  const features = options.features ?? FEATURES;
  return {
    // Unary: the feature at a point, or an unnamed one if there is none.
    async getFeature(point, context) {
      if (!isValidPoint(point)) {
        context.abort(StatusCode.INVALID_ARGUMENT, `${formatPoint(point)} is not a valid location`);
      }
      const requestId = context.invocationMetadata().get("x-request-id");
      if (requestId !== undefined) context.setTrailingMetadata({ "x-request-id": requestId });
      return features.find((f) => sameLocation(f.location, point)) ?? { name: "", location: point };
    },

    // Server streaming: the features inside a rectangle, one at a time. The handler
    // stops as soon as context.signal aborts (client cancelled, deadline, shutdown).
    async *listFeatures(rectangle, context) {
      const paceMs = paceOf(context.invocationMetadata());
      let sent = 0;
      for (const feature of features) {
        if (!inRectangle(rectangle, feature.location)) continue;
        if (paceMs > 0) await sleep(paceMs, undefined, { signal: context.signal }).catch(() => {});
        if (context.signal.aborted) {
          const reason = RpcError.from(context.signal.reason);
          options.onAbort?.({ method: "ListFeatures", aborted: true, reason, sent });
          return;
        }
        yield feature;
        sent++;
      }
    },

    // Client streaming: reads a route point by point and summarises it.
    async recordRoute(points) {
      const started = Date.now();
      let pointCount = 0;
      let featureCount = 0;
      let distance = 0;
      let previous: Point | undefined;
      for await (const point of points) {
        pointCount++;
        if (features.some((f) => f.name !== "" && sameLocation(f.location, point))) featureCount++;
        if (previous !== undefined) distance += distanceMetres(previous, point);
        previous = point;
      }
      const elapsedTime = Math.round((Date.now() - started) / 1000);
      return { pointCount, featureCount, distance: Math.round(distance), elapsedTime };
    },

    // Bidirectional streaming: answers each note with the notes sent earlier in the
    // same call at the same location.
    async *routeChat(notes) {
      const earlier: RouteNote[] = [];
      for await (const note of notes) {
        for (const previous of earlier) {
          if (sameLocation(previous.location, note.location)) yield previous;
        }
        earlier.push(note);
      }
    },
  };
}
// #endregion

function paceOf(metadata: Metadata): number {
  const value = Number(metadata.get(PACE_HEADER) ?? 0);
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 1000) : 0;
}

export interface ServeOptions extends RouteGuideOptions {
  /** Where to listen; "127.0.0.1:0" (any free port) by default. */
  address?: string;
}

/** Starts a server with the route guide servicer; resolves once it accepts calls. */
export async function serve(options: ServeOptions = {}): Promise<{ server: Server; port: number }> {
  const server = createServer();
  addRouteGuideServicerToServer(routeGuideServicer(options), server);
  const port = await server.addInsecurePort(options.address ?? "127.0.0.1:0");
  await server.start();
  return { server, port };
}
