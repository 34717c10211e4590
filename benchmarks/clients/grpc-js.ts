// User path (`grpc-js`): @grpc/grpc-js's client class for bench.Bench (what
// `grpc.loadPackageDefinition(protoLoader.loadSync(...))` gives; see grpc-js-service.ts)
// with protobufjs messages, in its idiomatic style: a callback per unary call (wrapped
// in a promise, as most users do), 'data' events for streams, write()/'drain' for
// backpressure. Request objects are built once per scenario.
import type * as grpc from "@grpc/grpc-js";
import { grpcJsBenchClient, type PayloadObject } from "../grpc-js-service.js";
import { parseCountBody, perBody } from "../payload.js";
import { countMessages } from "./grpc-js-count.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

export function grpcJsClient(port: number): BenchClient {
  const client = grpcJsBenchClient(`127.0.0.1:${port}`);
  const toPayload = perBody((body): PayloadObject => ({ body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) }));
  return {
    unary(message) {
      return new Promise((resolve, reject) => {
        client.unary(toPayload(message.body), (err, reply) => {
          if (err) return reject(err);
          try {
            expectLength("Unary", reply!.body.byteLength, message.body.byteLength);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    serverStream(request, expectedCount) {
      return countMessages(client.serverStream(toPayload(request.body)), "ServerStream", expectedCount);
    },
    async clientStream(message, until) {
      const payload = toPayload(message.body);
      let call!: grpc.ClientWritableStream<PayloadObject>;
      const reply = new Promise<PayloadObject>((resolve, reject) => {
        call = client.clientStream((err, r) => (err ? reject(err) : resolve(r!)));
      });
      let sent = 0;
      do {
        for (let i = 0; i < TIME_CHECK_EVERY; i++) {
          if (!call.write(payload)) await new Promise((r) => call.once("drain", r));
        }
        sent += TIME_CHECK_EVERY;
      } while (performance.now() < until);
      call.end();
      expectCount("ClientStream", parseCountBody((await reply).body), sent);
      return sent;
    },
    pingPong(message, until) {
      const payload = toPayload(message.body);
      return new Promise((resolve, reject) => {
        const call = client.bidi();
        let n = 0;
        call.on("data", (reply: PayloadObject) => {
          if (reply.body.byteLength !== message.body.byteLength) {
            reject(new Error(`Bidi: got ${reply.body.byteLength} bytes`));
            call.cancel();
            return;
          }
          n++;
          if (performance.now() < until) call.write(payload);
          else call.end();
        });
        call.on("error", reject);
        call.on("end", () => resolve(n));
        call.write(payload);
      });
    },
    close: async () => client.close(),
  };
}
