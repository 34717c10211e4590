import { EOF, UsageError } from "../wire/index.js";
import { ClientCall } from "./client-call.js";

/**
 * The reading half shared by calls with a response stream: iterate it with
 * `for await`, or pull with `read()` (not both, as in gRPC Python). Breaking out of
 * the loop cancels the call, so the server stops producing.
 */
export abstract class StreamingResponseCall<Req, Res> extends ClientCall<Req, Res> implements AsyncIterable<Res> {
  private readStyle: "read" | "iterate" | undefined;

  /** The next response, or `EOF` after the last (gRPC Python `read()`). */
  async read(): Promise<Res | EOF> {
    this.useStyle("read");
    let r: IteratorResult<Res>;
    try {
      r = await this.queue!.next();
    } catch (err) {
      // Rebuilt here so that its stack shows the caller's await chain.
      throw err === this.error ? this.failureForCaller() : err;
    }
    return r.done ? EOF : r.value;
  }

  [Symbol.asyncIterator](): AsyncIterator<Res> {
    this.useStyle("iterate");
    const queue = this.queue!;
    return {
      next: () => queue.next(),
      return: (value?: unknown) => {
        if (!this.isFinished) this.cancel("The response stream was abandoned by its reader");
        queue.discard();
        return Promise.resolve({ value: value as Res, done: true });
      },
    };
  }

  private useStyle(style: "read" | "iterate"): void {
    if (this.readStyle !== undefined && this.readStyle !== style) {
      throw new UsageError("A call's responses are read either with read() or by iteration, not both: pick one for the whole call");
    }
    this.readStyle = style;
  }
}
