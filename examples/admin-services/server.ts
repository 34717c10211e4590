// A production-shaped server: the route guide service plus the companion services an
// operator expects, health (grpc.health.v1), reflection (grpc.reflection.v1 and v1alpha)
// and the admin services (channelz). `node dist/examples/admin-services/server.js`
// serves on 127.0.0.1:50051 until Ctrl-C; the tests and the demo call `serve()`.
import { createServer, type Server } from "../../src/index.js";
import { addAdminServicers } from "../../src/admin/index.js";
import { HealthServicer, ServingStatus } from "../../src/health/index.js";
import { enableServerReflection } from "../../src/reflection/index.js";
import { RouteGuide } from "../route-guide/gen/routeguide/route_guide_pb.js";
import { addRouteGuideServicerToServer } from "../route-guide/gen/routeguide/route_guide_grpc.js";
import { routeGuideServicer } from "../route-guide/server.js";

export interface AdminServer {
  server: Server;
  port: number;
  health: HealthServicer;
}

/** Starts the server on `address` (default 127.0.0.1:0). */
export async function serve(address = "127.0.0.1:0"): Promise<AdminServer> {
  // #region admin-server
  // grpc.enable_channelz: channelz tracks this server (its calls and connections).
  const server = createServer({ options: { "grpc.enable_channelz": 1 } });
  addRouteGuideServicerToServer(routeGuideServicer(), server);

  const health = new HealthServicer();
  health.addToServer(server); // server.stop() turns every status NOT_SERVING first
  health.set(RouteGuide.typeName, ServingStatus.SERVING);

  enableServerReflection(server); // lists and describes every service added above
  addAdminServicers(server); // channelz

  const port = await server.addInsecurePort(address);
  await server.start();
  // #endregion
  return { server, port, health };
}

// Run as a program: serve until SIGINT/SIGTERM, then stop with a grace of 5 seconds.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  const { server, port } = await serve(process.env["ADDRESS"] ?? "127.0.0.1:50051");
  console.log(`serving RouteGuide, health, reflection and channelz on port ${port}`);
  const stop = () => void server.stop(5);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.waitForTermination();
}
