// User path (`grpc-js`): bench.Bench on @grpc/grpc-js from its protobufjs service
// definition (grpc-js-service.ts, as proto-loader builds it) with protobufjs messages,
// and its idiomatic callback/stream handlers.
import * as grpc from "@grpc/grpc-js";
import { benchService, type PayloadObject } from "../grpc-js-service.js";
import { bodyOfSize, countBody, parseStreamRequestBody } from "../payload.js";
import { writeAll } from "./grpc-js-write-all.js";
import type { RunningServer } from "./types.js";

const implementation: grpc.UntypedServiceImplementation = {
  unary(call: grpc.ServerUnaryCall<PayloadObject, PayloadObject>, callback: grpc.sendUnaryData<PayloadObject>) {
    callback(null, call.request);
  },
  serverStream(call: grpc.ServerWritableStream<PayloadObject, PayloadObject>) {
    const { size, count } = parseStreamRequestBody(call.request.body);
    const message: PayloadObject = { body: bodyOfSize(size) };
    writeAll(call, message, count);
  },
  clientStream(call: grpc.ServerReadableStream<PayloadObject, PayloadObject>, callback: grpc.sendUnaryData<PayloadObject>) {
    let count = 0;
    call.on("data", () => count++);
    call.on("end", () => callback(null, { body: countBody(count) }));
  },
  bidi(call: grpc.ServerDuplexStream<PayloadObject, PayloadObject>) {
    call.on("data", (m: PayloadObject) => call.write(m));
    call.on("end", () => call.end());
  },
};

export async function startGrpcJsServer(): Promise<RunningServer> {
  const server = new grpc.Server();
  server.addService(benchService(), implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
