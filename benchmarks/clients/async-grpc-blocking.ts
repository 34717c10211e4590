// The blocking client (`async-grpc-blocking`): the generated BenchBlockingClient on a
// BlockingChannel from async-grpc/compat, whose calls block this thread while a worker
// thread runs the async core (issue #13's "synchronous unary calls per second against
// the async client's"). Only unary calls are measured (see BLOCKING_SCENARIOS): one at a
// time, since the calling thread is blocked while a call is in flight. The server is
// the async-grpc one. Note that run.ts pins the client process to one CPU, so the
// calling thread and the worker share it.
import { create } from "@bufbuild/protobuf";
import { BlockingChannel } from "../../src/compat/index.js";
import { BenchBlockingClient } from "../gen/bench_grpc.js";
import { PayloadSchema } from "../gen/bench_pb.js";
import { perBody } from "../payload.js";
import { expectLength, type BenchClient } from "./types.js";

export function asyncGrpcBlockingClient(port: number): BenchClient {
  const channel = new BlockingChannel(`127.0.0.1:${port}`);
  const client = new BenchBlockingClient(channel);
  const toPayload = perBody((body) => create(PayloadSchema, { body }));
  const notMeasured = (what: string) => () => Promise.reject(new Error(`async-grpc-blocking: ${what} is not measured`));
  return {
    async unary(message) {
      const reply = client.unary(toPayload(message.body));
      expectLength("Unary", reply.body.byteLength, message.body.byteLength);
    },
    serverStream: notMeasured("server streaming"),
    clientStream: notMeasured("client streaming"),
    pingPong: notMeasured("bidi"),
    close: async () => channel.close(),
  };
}
