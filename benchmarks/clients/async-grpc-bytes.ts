// Transport floor (`async-grpc-bytes`): async-grpc's untyped channel methods, raw bytes (no serializers), with the async API: await a unary
// call, `for await` a response stream, await write()/read() on streams.
import { EOF, insecureChannel } from "../../src/index.js";
import { parseCountBody, payloadBody, type BenchMessage } from "../payload.js";
import { PATHS } from "../protocol.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

export function asyncGrpcBytesClient(port: number): BenchClient {
  const channel = insecureChannel(`127.0.0.1:${port}`);
  const unary = channel.unaryUnary(PATHS.unary);
  const serverStream = channel.unaryStream(PATHS.serverStream);
  const clientStream = channel.streamUnary(PATHS.clientStream);
  const bidi = channel.streamStream(PATHS.bidi);
  return {
    async unary(message) {
      const reply = await unary(message.wire);
      expectLength("Unary", reply.byteLength, message.wire.byteLength);
    },
    async serverStream(request, expectedCount) {
      let n = 0;
      for await (const _ of serverStream(request.wire)) n++;
      expectCount("ServerStream", n, expectedCount);
      return n;
    },
    async clientStream(message: BenchMessage, until: number) {
      const call = clientStream();
      let sent = 0;
      do {
        for (let i = 0; i < TIME_CHECK_EVERY; i++) await call.write(message.wire);
        sent += TIME_CHECK_EVERY;
      } while (performance.now() < until);
      await call.doneWriting();
      const reply = await call;
      expectCount("ClientStream", parseCountBody(payloadBody(reply)), sent);
      return sent;
    },
    async pingPong(message, until) {
      const call = bidi();
      let n = 0;
      do {
        await call.write(message.wire);
        const reply = await call.read();
        if (reply === EOF) throw new Error("Bidi: EOF before the reply");
        expectLength("Bidi", reply.byteLength, message.wire.byteLength);
        n++;
      } while (performance.now() < until);
      await call.doneWriting();
      if ((await call.read()) !== EOF) throw new Error("Bidi: expected EOF");
      return n;
    },
    close: () => channel.close(),
  };
}
