// A benchmark client process: `node dist/benchmarks/client.js <implementation>`,
// started by run.ts with an IPC channel. For each {type:"run"} it makes a fresh
// client (one channel/connection), runs the scenario, closes the client and replies
// with {type:"result"} or {type:"error"}.
import { asyncGrpcBlockingClient } from "./clients/async-grpc-blocking.js";
import { asyncGrpcBytesClient } from "./clients/async-grpc-bytes.js";
import { asyncGrpcClient, asyncGrpcInProcessClient } from "./clients/async-grpc.js";
import { registerOpenTelemetry } from "./otel.js";
import { connectClient } from "./clients/connect-node.js";
import { grpcJsBytesClient } from "./clients/grpc-js-bytes.js";
import { grpcJsClient } from "./clients/grpc-js.js";
import { rawHttp2Client } from "./clients/raw-http2.js";
import type { BenchClient } from "./clients/types.js";
import { isImpl, scenarioByName, type FromClient, type Impl, type RunScenario, type ToClient } from "./protocol.js";
import { runScenario } from "./scenarios.js";

function makeClient(impl: Impl, port: number): BenchClient {
  switch (impl) {
    case "async-grpc":
      return asyncGrpcClient(port);
    case "grpc-js":
      return grpcJsClient(port);
    case "connect-node":
      return connectClient(port);
    case "async-grpc-bytes":
      return asyncGrpcBytesClient(port);
    case "grpc-js-bytes":
      return grpcJsBytesClient(port);
    case "raw-http2":
      return rawHttp2Client(port, false);
    case "raw-http2-tuned":
      return rawHttp2Client(port, true);
    case "async-grpc-blocking":
      return asyncGrpcBlockingClient(port);
    case "async-grpc-otel":
      registerOpenTelemetry();
      return asyncGrpcClient(port);
    case "async-grpc-inprocess":
      return asyncGrpcInProcessClient();
  }
}

function send(message: FromClient): void {
  process.send!(message);
}

async function run(impl: Impl, message: RunScenario): Promise<void> {
  const spec = scenarioByName(message.scenario);
  const client = makeClient(impl, message.port);
  try {
    const result = await runScenario(client, spec, message);
    send({ type: "result", scenario: spec.name, result });
  } catch (err) {
    send({ type: "error", scenario: spec.name, message: String(err instanceof Error ? err.stack : err) });
  } finally {
    await Promise.race([client.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

function main(): void {
  const impl = process.argv[2] ?? "";
  if (!isImpl(impl)) throw new Error(`unknown implementation ${impl}`);
  if (!process.send) throw new Error("client.js is started by run.ts (it needs an IPC channel)");
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: ToClient) => {
    if (message.type === "run") void run(impl, message);
    else if (message.type === "stop") process.exit(0);
  });
  send({ type: "ready" });
}

main();
