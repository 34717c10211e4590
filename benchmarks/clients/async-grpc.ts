// User path (`async-grpc`): the generated BenchClient (protoc-gen-async-grpc) with
// protobuf-es messages, used with the async API: await a unary call, `for await` a
// response stream, await write()/read() on streams. Messages are built once per
// scenario (as connect-node's are); every call encodes and decodes them.
import { create } from "@bufbuild/protobuf";
import { EOF, insecureChannel, type Channel } from "../../src/index.js";
import { inProcessChannel } from "../../src/testing/index.js";
import { BenchClient as GeneratedBenchClient } from "../gen/bench_grpc.js";
import { PayloadSchema } from "../gen/bench_pb.js";
import { parseCountBody, perBody } from "../payload.js";
import { createAsyncGrpcServer } from "../servers/async-grpc.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

export function asyncGrpcClient(port: number): BenchClient {
  return benchClientOn(insecureChannel(`127.0.0.1:${port}`));
}

/**
 * `async-grpc-inprocess`: the same client and the same servicer (a fresh server per
 * scenario, never bound to a port), connected by async-grpc/testing's in-process channel.
 */
export function asyncGrpcInProcessClient(): BenchClient {
  const server = createAsyncGrpcServer();
  const started = server.start();
  const client = benchClientOn(inProcessChannel(server), async () => {
    await started;
    await server.stop(null);
  });
  return client;
}

function benchClientOn(channel: Channel, after?: () => Promise<void>): BenchClient {
  const client = new GeneratedBenchClient(channel);
  const toPayload = perBody((body) => create(PayloadSchema, { body }));
  return {
    async unary(message) {
      const reply = await client.unary(toPayload(message.body));
      expectLength("Unary", reply.body.byteLength, message.body.byteLength);
    },
    async serverStream(request, expectedCount) {
      let n = 0;
      for await (const _ of client.serverStream(toPayload(request.body))) n++;
      expectCount("ServerStream", n, expectedCount);
      return n;
    },
    async clientStream(message, until) {
      const payload = toPayload(message.body);
      const call = client.clientStream();
      let sent = 0;
      do {
        for (let i = 0; i < TIME_CHECK_EVERY; i++) await call.write(payload);
        sent += TIME_CHECK_EVERY;
      } while (performance.now() < until);
      await call.doneWriting();
      const reply = await call;
      expectCount("ClientStream", parseCountBody(reply.body), sent);
      return sent;
    },
    async pingPong(message, until) {
      const payload = toPayload(message.body);
      const call = client.bidi();
      let n = 0;
      do {
        await call.write(payload);
        const reply = await call.read();
        if (reply === EOF) throw new Error("Bidi: EOF before the reply");
        expectLength("Bidi", reply.body.byteLength, message.body.byteLength);
        n++;
      } while (performance.now() < until);
      await call.doneWriting();
      if ((await call.read()) !== EOF) throw new Error("Bidi: expected EOF");
      return n;
    },
    async close() {
      await channel.close();
      await after?.();
    },
  };
}
