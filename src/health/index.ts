// async-grpc/health: the gRPC health checking protocol, grpc.health.v1 (gRPC Python's
// `grpc_health.v1` package): a servicer with Check, Watch and List, and the typed client.
export { HealthServicer, OVERALL_HEALTH, LIST_LIMIT, type AddHealthOptions } from "./health-servicer.js";
export { HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/grpc/health/v1/health_pb.js";
export * from "./gen/grpc/health/v1/health_pb.js";
export * from "./gen/grpc/health/v1/health_grpc.js";
