// A plain synchronous script with the blocking client: no async, no await, no
// callbacks. Every call returns its answer (or throws its RpcError) before the next
// line runs, as in a gRPC Python script.
//
//   node dist/examples/blocking-script/script.js [host:port]
//
// Without a target it starts the route guide server on a thread of its own first.
import { BlockingChannel } from "../../src/compat/index.js";
import { RpcError, StatusCode } from "../../src/index.js";
import { RouteGuideBlockingClient } from "../route-guide/gen/routeguide/route_guide_grpc.js";
import { EVERYWHERE, LOOKUPS, NOTES, ROUTE } from "../route-guide/client.js";
import { formatPoint } from "../route-guide/geo.js";
import { startDemoServer } from "./server-thread.js";

const target = process.argv[2] ?? `127.0.0.1:${await startDemoServer()}`;

// #region blocking-script
const channel = new BlockingChannel(target, undefined, { defaultTimeoutMs: 10_000 });
const client = new RouteGuideBlockingClient(channel);

// Unary: the response itself.
const feature = client.getFeature(LOOKUPS[0]!);
console.log(`GetFeature: ${feature.name} at ${formatPoint(feature.location)}`);

// Errors are the same RpcError as with the async client.
try {
  client.getFeature(LOOKUPS[2]!);
} catch (err) {
  if (!(err instanceof RpcError)) throw err;
  console.log(`GetFeature: ${StatusCode[err.code]}: ${err.details}`);
}

// Server streaming: a synchronous iterator; the status once it is done.
const features = client.listFeatures(EVERYWHERE, { timeoutMs: 5000 });
let count = 0;
for (const f of features) if (f.name !== "") count++;
console.log(`ListFeatures: ${count} features, ${StatusCode[features.code()]}`);

// Client streaming: any synchronous iterable of requests, a generator here.
function* walk() {
  yield* ROUTE;
}
const summary = client.recordRoute(walk());
console.log(`RecordRoute: ${summary.pointCount} points, ${summary.featureCount} features, ${summary.distance} m`);

// Bidirectional: send the notes, then read the replies.
const replies = [...client.routeChat(NOTES)].map((n) => n.message);
console.log(`RouteChat: ${replies.length} replies (${replies.join(", ")})`);

// with_call and futures, as gRPC Python has them.
const { call } = client.getFeature.withCall(LOOKUPS[1]!);
console.log(`withCall: ${StatusCode[call.code]}`);
const futures = LOOKUPS.slice(0, 2).map((p) => client.getFeature.future(p));
console.log(`futures: ${futures.map((f) => JSON.stringify(f.result().name)).join(", ")}`);

channel.close();
// #endregion
