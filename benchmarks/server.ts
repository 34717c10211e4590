// A benchmark server process: `node dist/benchmarks/server.js <implementation>`,
// started by run.ts with an IPC channel. Sends {type:"ready", port}, answers
// {type:"usage"} with its CPU time and peak RSS, exits on {type:"stop"} (cleanly, so
// that --cpu-prof can write its profile) or when the orchestrator goes away.
import { isImpl, type FromServer, type Impl, type ToServer } from "./protocol.js";
import { startAsyncGrpcBytesServer } from "./servers/async-grpc-bytes.js";
import { startAsyncGrpcServer } from "./servers/async-grpc.js";
import { registerOpenTelemetry } from "./otel.js";
import { startConnectServer } from "./servers/connect-node.js";
import { startGrpcJsBytesServer } from "./servers/grpc-js-bytes.js";
import { startGrpcJsServer } from "./servers/grpc-js.js";
import { startRawHttp2Server } from "./servers/raw-http2.js";
import type { RunningServer } from "./servers/types.js";

const RSS_SAMPLE_MS = 50;

function send(message: FromServer): void {
  process.send!(message);
}

function start(impl: Impl): Promise<RunningServer> {
  switch (impl) {
    case "async-grpc":
    case "async-grpc-blocking": // the blocking client against the async-grpc server
      return startAsyncGrpcServer();
    case "async-grpc-otel":
      registerOpenTelemetry();
      return startAsyncGrpcServer();
    case "grpc-js":
      return startGrpcJsServer();
    case "connect-node":
      return startConnectServer();
    case "async-grpc-bytes":
      return startAsyncGrpcBytesServer();
    case "grpc-js-bytes":
      return startGrpcJsBytesServer();
    case "raw-http2":
      return startRawHttp2Server(false);
    case "raw-http2-tuned":
      return startRawHttp2Server(true);
    case "async-grpc-inprocess":
      // The client process serves itself (IN_PROCESS): nothing listens here.
      return Promise.resolve({ port: 0, stop: () => Promise.resolve() });
  }
}

async function main(): Promise<void> {
  const impl = process.argv[2] ?? "";
  if (!isImpl(impl)) throw new Error(`unknown implementation ${impl}`);
  if (!process.send) throw new Error("server.js is started by run.ts (it needs an IPC channel)");
  process.on("disconnect", () => process.exit(0));

  let windowPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > windowPeak) windowPeak = rss;
  }, RSS_SAMPLE_MS);
  sampler.unref();

  const server = await start(impl);
  process.on("message", (message: ToServer) => {
    if (message.type === "usage") {
      const usage = process.resourceUsage();
      const rss = process.memoryUsage.rss();
      send({
        type: "usage",
        cpuUserUs: usage.userCPUTime,
        cpuSystemUs: usage.systemCPUTime,
        maxRssKb: usage.maxRSS,
        windowPeakRssBytes: Math.max(windowPeak, rss),
      });
      windowPeak = rss;
    } else if (message.type === "stop") {
      // Do not wait for long: the orchestrator kills us anyway after a while.
      const timer = setTimeout(() => process.exit(0), 2000);
      server.stop().finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    }
  });
  send({ type: "ready", port: server.port });
}

main().catch((err: unknown) => {
  console.error("bench server:", err);
  if (process.send) send({ type: "error", message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
