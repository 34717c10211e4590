/**
 * A grpc-js service definition built by hand from a protoc-gen-es service descriptor:
 * each method's path, streaming kind and a (de)serializer pair over @bufbuild/protobuf's
 * toBinary/fromBinary. No @grpc/proto-loader, no generated grpc-js stubs.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type DescService } from "@bufbuild/protobuf";

export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const responseStream = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream,
      responseStream,
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as ServiceDefinition;
}

function serializer(schema: DescMessage): (message: unknown) => Buffer {
  return (message) => {
    // The handlers and clients only ever pass messages made with create(schema).
    const bytes = toBinary(schema, message as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}
