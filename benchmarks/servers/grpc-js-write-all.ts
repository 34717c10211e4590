import type * as grpc from "@grpc/grpc-js";

/** Writes `message` `count` times to a grpc-js server stream with its 'drain' backpressure, then ends it. */
export function writeAll<T>(call: grpc.ServerWritableStream<unknown, T>, message: T, count: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < count) {
      sent++;
      if (!call.write(message)) {
        call.once("drain", pump);
        return;
      }
    }
    call.end();
  };
  pump();
}
