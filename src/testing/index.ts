// async-grpc/testing: utilities for testing gRPC code without a network (gRPC Python's grpc_testing).
export { inProcessChannel, inProcessTransport, type InProcessChannelConfig } from "./in-process.js";
