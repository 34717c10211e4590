// Transport floor (`grpc-js-bytes`): bench.Bench on @grpc/grpc-js with raw Buffer (de)serializers and its idiomatic
// callback/stream handlers.
import * as grpc from "@grpc/grpc-js";
import { bodyOfSize, countBody, encodePayload, parseStreamRequestBody, payloadBody } from "../payload.js";
import { PATHS } from "../protocol.js";
import { writeAll } from "./grpc-js-write-all.js";
import type { RunningServer } from "./types.js";

const id = (b: Buffer): Buffer => b;

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
}

const service: grpc.ServiceDefinition = {
  Unary: method(PATHS.unary, false, false),
  ServerStream: method(PATHS.serverStream, false, true),
  ClientStream: method(PATHS.clientStream, true, false),
  Bidi: method(PATHS.bidi, true, true),
};

const implementation: grpc.UntypedServiceImplementation = {
  Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    callback(null, call.request);
  },
  ServerStream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    const { size, count } = parseStreamRequestBody(payloadBody(call.request));
    const message = encodePayload(bodyOfSize(size));
    writeAll(call, message, count);
  },
  ClientStream(call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    let count = 0;
    call.on("data", () => count++);
    call.on("end", () => callback(null, encodePayload(countBody(count))));
  },
  Bidi(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    call.on("data", (m: Buffer) => call.write(m));
    call.on("end", () => call.end());
  },
};

export async function startGrpcJsBytesServer(): Promise<RunningServer> {
  const server = new grpc.Server();
  server.addService(service, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
