import { EOF } from "async-grpc";

/**
 * The messages of one direction of a call, pulled one at a time from `read` and kept
 * until the test takes them (gRPC Python's testing RPCs queue them the same way), so
 * that waiting for the end of the stream (`termination()`, `requestsClosed()`) does
 * not lose messages the test has not taken yet. One read is in flight at most.
 */
export class MessageBuffer<T> {
  private readonly messages: T[] = [];
  private pulling: Promise<boolean> | undefined;
  private ended = false;
  private failure: unknown;

  constructor(
    private readonly read: () => Promise<T | EOF>,
    /** What the messages are, for errors: "a response of /pkg.Service/Method". */
    private readonly what: string,
  ) {}

  /** The next message; rejects with the call's error, or if the stream ended without one. */
  async take(): Promise<T> {
    while (this.messages.length === 0) {
      if (!(await this.pull())) {
        if (this.failure !== undefined) throw this.failure;
        throw new Error(`No more messages: the stream ended before ${this.what} arrived`);
      }
    }
    return this.messages.shift()!;
  }

  /** Resolves once the stream has ended, keeping what arrived before for `take()`. */
  async drain(): Promise<void> {
    while (await this.pull());
  }

  private pull(): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return (this.pulling ??= this.read().then(
      (message) => {
        this.pulling = undefined;
        if (message === EOF) {
          this.ended = true;
          return false;
        }
        this.messages.push(message);
        return true;
      },
      (err: unknown) => {
        this.pulling = undefined;
        this.ended = true;
        this.failure = err;
        return false;
      },
    ));
  }
}
