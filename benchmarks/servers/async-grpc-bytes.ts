// Transport floor (`async-grpc-bytes`): bench.Bench on async-grpc, raw bytes in and out (no (de)serializers), written the
// way the README shows handlers: async functions and async generators.
import {
  createServer,
  methodHandlersGenericHandler,
  streamStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
} from "../../src/index.js";
import { bodyOfSize, countBody, encodePayload, parseStreamRequestBody, payloadBody } from "../payload.js";
import type { RunningServer } from "./types.js";

export async function startAsyncGrpcBytesServer(): Promise<RunningServer> {
  const server = createServer();
  server.addGenericRpcHandlers([
    methodHandlersGenericHandler("bench.Bench", {
      Unary: unaryUnaryRpcMethodHandler(async (request: Uint8Array) => request),
      ServerStream: unaryStreamRpcMethodHandler(async function* (request: Uint8Array) {
        const { size, count } = parseStreamRequestBody(payloadBody(request));
        const message = encodePayload(bodyOfSize(size));
        for (let i = 0; i < count; i++) yield message;
      }),
      ClientStream: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
        let count = 0;
        for await (const _ of requests) count++;
        return encodePayload(countBody(count));
      }),
      Bidi: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>) {
        for await (const request of requests) yield request;
      }),
    }),
  ]);
  const port = await server.addInsecurePort("127.0.0.1:0");
  await server.start();
  return { port, stop: () => server.stop(null) };
}
