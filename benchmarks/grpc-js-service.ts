// bench.Bench for @grpc/grpc-js's user path, built the way @grpc/proto-loader builds a
// service definition (its createMethodDefinition): protobufjs reflection loaded from
// proto/bench.proto at run time, `Type.encode(Type.fromObject(arg)).finish()` to
// serialize and `Type.toObject(Type.decode(bytes), options)` to deserialize, methods
// keyed by name with a lowerCamel `originalName`. proto-loader is not a dependency of
// this repository; protobufjs is (through @grpc/grpc-js), and this is the same code.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";

// dist/benchmarks/grpc-js-service.js → benchmarks/proto/bench.proto
const PROTO = resolve(dirname(fileURLToPath(import.meta.url)), "../../benchmarks/proto/bench.proto");

/** bench.Payload as proto-loader hands it out with default options: bytes as a Buffer. */
export interface PayloadObject {
  body: Buffer;
}

/** The options users commonly pass to proto-loader (`longs`, `enums`, `defaults`, `oneofs`). */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

function definition(): grpc.ServiceDefinition {
  const root = protobuf.loadSync(PROTO);
  root.resolveAll();
  const service = root.lookupService("bench.Bench");
  const methods: Record<string, grpc.MethodDefinition<PayloadObject, PayloadObject> & { originalName: string }> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    methods[method.name] = {
      path: `/bench.Bench/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: (arg) => request.encode(request.fromObject(arg)).finish() as Buffer,
      requestDeserialize: (bytes) => request.toObject(request.decode(bytes), TO_OBJECT) as PayloadObject,
      responseSerialize: (arg) => response.encode(response.fromObject(arg)).finish() as Buffer,
      responseDeserialize: (bytes) => response.toObject(response.decode(bytes), TO_OBJECT) as PayloadObject,
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return methods;
}

let cached: grpc.ServiceDefinition | undefined;

/** bench.Bench's service definition (built on first use, not at import). */
export function benchService(): grpc.ServiceDefinition {
  return (cached ??= definition());
}

/**
 * The client class `grpc.loadPackageDefinition(...).bench.Bench` would be, typed as
 * the `.d.ts` that proto-loader's type generator writes for it.
 */
export interface GrpcJsBenchClient extends grpc.Client {
  unary(request: PayloadObject, callback: grpc.requestCallback<PayloadObject>): grpc.ClientUnaryCall;
  serverStream(request: PayloadObject): grpc.ClientReadableStream<PayloadObject>;
  clientStream(callback: grpc.requestCallback<PayloadObject>): grpc.ClientWritableStream<PayloadObject>;
  bidi(): grpc.ClientDuplexStream<PayloadObject, PayloadObject>;
}

export function grpcJsBenchClient(address: string): GrpcJsBenchClient {
  const Bench = grpc.makeGenericClientConstructor(benchService(), "Bench");
  return new Bench(address, grpc.credentials.createInsecure()) as unknown as GrpcJsBenchClient;
}
