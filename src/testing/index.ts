// async-grpc/testing: unit-testing gRPC code without a network to set up (gRPC Python's
// `grpc_testing` package). `testingServer()` runs servicers for a test that invokes them;
// `testingChannel()` gives client code a channel whose server is the test;
// `strictFakeTime()` makes deadlines pass when the test steps the time.
export { testingServer, TestingServer, type Servicers } from "./testing-server.js";
export { testingChannel, TestingChannel, type TestingChannelOptions } from "./testing-channel.js";
export { UnaryUnaryServerRpc, UnaryStreamServerRpc, StreamUnaryServerRpc, StreamStreamServerRpc, type Termination, type UnaryTermination } from "./server-rpcs.js";
export { UnaryUnaryChannelRpc, UnaryStreamChannelRpc, StreamUnaryChannelRpc, StreamStreamChannelRpc } from "./channel-rpcs.js";
export { strictRealTime } from "./real-time.js";
export { strictFakeTime, StrictFakeTime } from "./fake-time.js";
export type { Time, ScheduledCall } from "./time.js";
export { inProcessChannel, inProcessTransport, type InProcessChannelConfig } from "./in-process.js";
