/** Returned by `read()` once a stream has no more messages (gRPC Python `grpc.aio.EOF`). */
export const EOF: unique symbol = Symbol("async-grpc.EOF");
export type EOF = typeof EOF;
