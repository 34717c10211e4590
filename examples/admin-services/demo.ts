// The admin services demo: starts the server of server.ts, inspects it as an
// operator's tool would (inspect.ts), then stops it and shows health turning
// NOT_SERVING first.
import { insecureChannel } from "../../src/index.js";
import { HealthClient, ServingStatus } from "../../src/health/index.js";
import { inspect } from "./inspect.js";
import { serve } from "./server.js";

const { server, port } = await serve();
const target = `127.0.0.1:${port}`;
console.log(`server with health, reflection and channelz on ${target}`);

const report = await inspect(target);
console.log(`services (reflection): ${report.services.join(", ")}`);
for (const [service, status] of Object.entries(report.health)) console.log(`health ${service}: ${status}`);
console.log(`GetFeature through reflected descriptors: ${report.featureName}`);
console.log(
  `channelz server counters: ${report.server.callsStarted} calls started, ` +
    `${report.server.callsSucceeded} succeeded, ${report.server.callsFailed} failed`,
);

// A watcher sees the server go NOT_SERVING as soon as stop() begins.
const channel = insecureChannel(target);
const watch = new HealthClient(channel).watch({ service: "" });
const first = await watch.read();
const stopped = server.stop(1);
const second = await watch.read();
if (typeof first !== "symbol" && typeof second !== "symbol") {
  console.log(`health watch during stop(): ${ServingStatus[first.status]} -> ${ServingStatus[second.status]}`);
}
watch.cancel();
await channel.close();
await stopped;
console.log("stopped");
