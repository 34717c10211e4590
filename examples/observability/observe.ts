// The route guide, observed: the OpenTelemetryPlugin registered for the whole process
// sees the server and the client, and the telemetry goes to the console.
import { StatusCode } from "../../src/index.js";
import { OpenTelemetryPlugin } from "../../src/observability/index.js";
import { RouteGuideClient } from "../route-guide/gen/routeguide/route_guide_grpc.js";
import { getFeature, listFeatures, LOOKUPS, NEARBY } from "../route-guide/client.js";
import { serve } from "../route-guide/server.js";
import { insecureChannel, RpcError } from "../../src/index.js";
import { consoleTelemetry, type Log } from "./telemetry.js";

/** Runs a few route guide calls (one of them failing) under the plugin and prints what it recorded. */
export async function observe(log: Log): Promise<void> {
  const telemetry = consoleTelemetry(log);
  // #region plugin
  const plugin = new OpenTelemetryPlugin({
    meterProvider: telemetry.meterProvider,
    tracerProvider: telemetry.tracerProvider,
  });
  plugin.registerGlobal(); // every channel and server made from now on
  // #endregion
  try {
    const { server, port } = await serve();
    const channel = insecureChannel(`127.0.0.1:${port}`);
    const client = new RouteGuideClient(channel);
    await getFeature(client, LOOKUPS[0]!);
    await listFeatures(client, NEARBY);
    try {
      await client.getFeature(LOOKUPS[2]!); // latitude 91: INVALID_ARGUMENT
    } catch (err) {
      if (!(err instanceof RpcError) || err.code !== StatusCode.INVALID_ARGUMENT) throw err;
    }
    await channel.close();
    await server.stop(1);
    await telemetry.printMetrics();
  } finally {
    plugin.deregisterGlobal();
    await telemetry.shutdown();
  }
}
