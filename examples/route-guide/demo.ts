// The route guide demo (`npm run demo`): starts the server and a client in one
// process, then walks through the four call kinds, a deadline and a cancellation.
import { setTimeout as sleep } from "node:timers/promises";
import { createServer, insecureChannel, RpcError, StatusCode } from "../../src/index.js";
import { addRouteGuideServicerToServer, RouteGuideClient } from "./gen/routeguide/route_guide_grpc.js";
import {
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
} from "./client.js";
import { formatPoint } from "./geo.js";
import { routeGuideServicer, type AbortedCall } from "./server.js";

const heading = (title: string): void => console.log(`\n== ${title}`);
const log = (line: string): void => console.log(`   ${line}`);
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

// What the server's ListFeatures handler saw when its context.signal aborted.
const serverAborts: AbortedCall[] = [];

/** Prints the server handler's view of the call that just ended (it hears of it a moment after the client). */
async function showServerSide(): Promise<void> {
  for (let waited = 0; serverAborts.length === 0 && waited < 2000; waited += 10) await sleep(10);
  const seen = serverAborts.shift();
  if (seen === undefined) throw new Error("The server handler never saw its call end");
  log(
    `[server] ${seen.method} handler saw context.signal.aborted === ${seen.aborted} after ` +
      `${plural(seen.sent, "feature")} (reason: ${StatusCode[seen.reason.code]}), and stopped`,
  );
}

console.log("async-grpc route guide demo: a RouteGuide server and a typed client in one process");
// #region quickstart-server
const server = createServer();
addRouteGuideServicerToServer(routeGuideServicer({ onAbort: (call) => serverAborts.push(call) }), server);
const port = await server.addInsecurePort("127.0.0.1:0"); // port 0: any free port
await server.start();
// #endregion

// #region quickstart-client
const channel = insecureChannel(`127.0.0.1:${port}`);
const client = new RouteGuideClient(channel); // one method per RPC, by camelCase name
// #endregion
console.log(`Server listening on 127.0.0.1:${port}`);

try {
  heading("1. GetFeature (unary)");
  for (const point of LOOKUPS) {
    log(`GetFeature ${formatPoint(point)}`);
    try {
      await getFeature(client, point, log);
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      log(`RpcError ${StatusCode[err.code]}: "${err.details}"`);
    }
  }

  heading(`2. ListFeatures (server streaming) in ${formatPoint(NEARBY.lo)}..${formatPoint(NEARBY.hi)}`);
  await listFeatures(client, NEARBY, log);

  heading("3. RecordRoute (client streaming, from an async generator)");
  await recordRoute(client, ROUTE, log);

  heading("4. RouteChat (bidirectional streaming: write() and read())");
  await routeChat(client, NOTES, log);

  heading("5. A deadline: ListFeatures with timeoutMs: 200, the server taking 150 ms per feature");
  await listFeaturesWithDeadline(client, 200, 150, log);
  await showServerSide();

  heading("6. Cancellation: ListFeatures abandoned with an AbortController after 3 features");
  await listFeaturesThenCancel(client, 3, 100, log);
  await showServerSide();
} finally {
  // #region quickstart-shutdown
  await channel.close();
  await server.stop(1);
  // #endregion
}
console.log("\nChannel closed, server stopped. Done.");
