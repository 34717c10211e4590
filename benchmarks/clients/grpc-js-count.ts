import type * as grpc from "@grpc/grpc-js";
import { expectCount } from "./types.js";

/** Counts the messages of a grpc-js response stream and checks the count when it ends. */
export function countMessages<T>(call: grpc.ClientReadableStream<T>, what: string, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    call.on("data", () => n++);
    call.on("error", reject);
    call.on("end", () => {
      try {
        expectCount(what, n, expected);
        resolve(n);
      } catch (e) {
        reject(e);
      }
    });
  });
}
