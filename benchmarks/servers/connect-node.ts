// User path (`connect-node`): bench.Bench on @connectrpc/connect-node: connectNodeAdapter on a plain
// http2.createServer (h2c), default settings. Connect always (de)serializes with
// protobuf-es; for a single bytes field that is a small cost.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Bench, PayloadSchema, type Payload } from "../gen/bench_pb.js";
import { bodyOfSize, countBody, parseStreamRequestBody } from "../payload.js";
import type { RunningServer } from "./types.js";

export async function startConnectServer(): Promise<RunningServer> {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(Bench, {
        unary: async (request: Payload) => request,
        async *serverStream(request: Payload) {
          const { size, count } = parseStreamRequestBody(request.body);
          const message = create(PayloadSchema, { body: bodyOfSize(size) });
          for (let i = 0; i < count; i++) yield message;
        },
        async clientStream(requests: AsyncIterable<Payload>) {
          let count = 0;
          for await (const _ of requests) count++;
          return create(PayloadSchema, { body: countBody(count) });
        },
        async *bidi(requests: AsyncIterable<Payload>) {
          for await (const request of requests) yield request;
        },
      }),
  });
  const server = http2.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
