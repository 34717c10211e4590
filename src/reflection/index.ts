// async-grpc/reflection: gRPC server reflection, grpc.reflection.v1 and v1alpha (gRPC
// Python's `grpc_reflection` package): the servicer, and a client that reads a live
// server's descriptors into a @bufbuild/protobuf registry.
export { enableServerReflection, ReflectionServicer, SERVICE_NAMES, type ReflectionOptions } from "./reflection-servicer.js";
export { ProtoReflectionDescriptorDatabase, type DescriptorDatabaseOptions } from "./descriptor-database.js";
export { WELL_KNOWN_FILES } from "./well-known.js";
export * as v1 from "./gen/grpc/reflection/v1/reflection_pb.js";
export * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
