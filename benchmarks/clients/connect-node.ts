// User path (`connect-node`): @connectrpc/connect-node's gRPC transport over HTTP/2
// (default settings) with the promise client from the protobuf-es service descriptor.
// Connect (de)serializes with protobuf-es; messages are built once per scenario.
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Bench, PayloadSchema, type Payload } from "../gen/bench_pb.js";
import { parseCountBody, perBody } from "../payload.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

export function connectClient(port: number): BenchClient {
  const baseUrl = `http://127.0.0.1:${port}`;
  // Our own session manager (default options) only so that close() can end the connection.
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport = createGrpcTransport({ baseUrl, sessionManager }) // gRPC transport: always HTTP/2;
  const client = createClient(Bench, transport);
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
      let sent = 0;
      async function* requests(): AsyncGenerator<Payload> {
        do {
          for (let i = 0; i < TIME_CHECK_EVERY; i++) yield payload;
          sent += TIME_CHECK_EVERY;
        } while (performance.now() < until);
      }
      const reply = await client.clientStream(requests());
      expectCount("ClientStream", parseCountBody(reply.body), sent);
      return sent;
    },
    async pingPong(message, until) {
      const payload = toPayload(message.body);
      const requests = new Pushable<Payload>();
      requests.push(payload);
      let n = 0;
      for await (const reply of client.bidi(requests)) {
        expectLength("Bidi", reply.body.byteLength, message.body.byteLength);
        n++;
        if (performance.now() < until) requests.push(payload);
        else requests.end();
      }
      return n;
    },
    close: async () => sessionManager.abort(),
  };
}

/** The smallest async iterable you can push into (what a ping-pong over Connect needs). */
class Pushable<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private done = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  end(): void {
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
