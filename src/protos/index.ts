// Runtime .proto loading: gRPC Python's grpc.protos(), grpc.services() and
// grpc.protos_and_services(), returning @bufbuild/protobuf descriptors.
export {
  loadProtos,
  protos,
  services,
  protosAndServices,
  ProtoLoadError,
  type LoadProtosOptions,
  type LoadedProtos,
  type ProtoDiagnostic,
  type ProtosModule,
  type ServicesModule,
} from "./load.js";
