// async-grpc/status: rich error status (gRPC Python's `grpc_status` package). A
// `google.rpc.Status` travels in the `grpc-status-details-bin` trailer beside the
// ordinary status; its details are `Any`-packed messages, usually the standard types
// of `google/rpc/error_details.proto`, exported here.
export {
  fromCall,
  fromError,
  toStatus,
  toRpcError,
  GRPC_DETAILS_METADATA_KEY,
  type CallStatusSource,
} from "./rich-status.js";
export { errorDetailsRegistry, unpackDetails } from "./error-details.js";
export * from "./gen/google/rpc/status_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";
