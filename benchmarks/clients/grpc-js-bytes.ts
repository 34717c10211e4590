// Transport floor (`grpc-js-bytes`): @grpc/grpc-js's generic Client with raw Buffer (de)serializers, in its idiomatic
// style: a callback per unary call (wrapped in a promise, as most users do), 'data'
// events for streams, write()/'drain' for backpressure.
import * as grpc from "@grpc/grpc-js";
import { parseCountBody, payloadBody } from "../payload.js";
import { PATHS } from "../protocol.js";
import { countMessages } from "./grpc-js-count.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

const id = (b: Buffer): Buffer => b;

export function grpcJsBytesClient(port: number): BenchClient {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    unary(message) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(PATHS.unary, id, id, message.wire, (err, reply) => {
          if (err) return reject(err);
          try {
            expectLength("Unary", reply!.byteLength, message.wire.byteLength);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    serverStream(request, expectedCount) {
      return countMessages(client.makeServerStreamRequest(PATHS.serverStream, id, id, request.wire), "ServerStream", expectedCount);
    },
    async clientStream(message, until) {
      let call!: grpc.ClientWritableStream<Buffer>;
      const reply = new Promise<Buffer>((resolve, reject) => {
        call = client.makeClientStreamRequest(PATHS.clientStream, id, id, (err, r) => (err ? reject(err) : resolve(r!)));
      });
      let sent = 0;
      do {
        for (let i = 0; i < TIME_CHECK_EVERY; i++) {
          if (!call.write(message.wire)) await new Promise((r) => call.once("drain", r));
        }
        sent += TIME_CHECK_EVERY;
      } while (performance.now() < until);
      call.end();
      expectCount("ClientStream", parseCountBody(payloadBody(await reply)), sent);
      return sent;
    },
    pingPong(message, until) {
      return new Promise((resolve, reject) => {
        const call = client.makeBidiStreamRequest(PATHS.bidi, id, id);
        let n = 0;
        call.on("data", (reply: Buffer) => {
          if (reply.byteLength !== message.wire.byteLength) {
            reject(new Error(`Bidi: got ${reply.byteLength} bytes`));
            call.cancel();
            return;
          }
          n++;
          if (performance.now() < until) call.write(message.wire);
          else call.end();
        });
        call.on("error", reject);
        call.on("end", () => resolve(n));
        call.write(message.wire);
      });
    },
    close: async () => client.close(),
  };
}
