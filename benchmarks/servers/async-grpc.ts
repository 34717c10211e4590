// User path (`async-grpc`): bench.Bench as a generated servicer (BenchServicer,
// addBenchServicerToServer from protoc-gen-async-grpc) with protobuf-es messages,
// written the way the README shows handlers: async functions and async generators.
import { create } from "@bufbuild/protobuf";
import { createServer, type Server } from "../../src/index.js";
import { addBenchServicerToServer, type BenchServicer } from "../gen/bench_grpc.js";
import { PayloadSchema, type Payload } from "../gen/bench_pb.js";
import { bodyOfSize, countBody, parseStreamRequestBody } from "../payload.js";
import type { RunningServer } from "./types.js";

const servicer: BenchServicer = {
  unary: async (request) => request,
  async *serverStream(request) {
    const { size, count } = parseStreamRequestBody(request.body);
    const message = create(PayloadSchema, { body: bodyOfSize(size) });
    for (let i = 0; i < count; i++) yield message;
  },
  async clientStream(requests) {
    let count = 0;
    for await (const _ of requests) count++;
    return create(PayloadSchema, { body: countBody(count) });
  },
  async *bidi(requests: AsyncIterable<Payload>) {
    for await (const request of requests) yield request;
  },
};

/** The server with the servicer, not yet bound or started. */
export function createAsyncGrpcServer(): Server {
  const server = createServer();
  addBenchServicerToServer(servicer, server);
  return server;
}

export async function startAsyncGrpcServer(): Promise<RunningServer> {
  const server = createAsyncGrpcServer();
  const port = await server.addInsecurePort("127.0.0.1:0");
  await server.start();
  return { port, stop: () => server.stop(null) };
}
