import { RpcError, StatusCode, UsageError } from "../index.js";
import type { BlockingChannel } from "./blocking-channel.js";
import { fromWireError, ownCopy, type FromWorker, type ToWorker } from "./blocking-protocol.js";

// How far past its deadline a blocked call waits for the worker to report the
// DEADLINE_EXCEEDED it should have seen itself.
export const DEADLINE_GRACE_MS = 1000;
// Requests of a stream sent ahead of their acknowledgement (each is acknowledged once
// HTTP/2 flow control took it), so that the calling thread does not wait a round trip
// per message, yet memory stays bounded.
const WRITE_WINDOW = 16;

/** One call's conversation with the worker, on the calling thread. */
export class CallSlot {
  #unacked = 0;
  /** The call's last message (response, eof or error), once it came. */
  #end: FromWorker | undefined;

  /** `deadline` (epoch ms) bounds every wait of the call, with a grace for the worker to report it. */
  constructor(
    readonly channel: BlockingChannel,
    readonly id: number,
    readonly deadline: number | undefined,
  ) {}

  get until(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline + DEADLINE_GRACE_MS;
  }

  get ended(): FromWorker | undefined {
    return this.#end;
  }

  post(message: ToWorker, bytes?: Uint8Array<ArrayBuffer>): void {
    this.channel.post(message, bytes);
  }

  /**
   * Blocks for the call's next message other than a write acknowledgement; after the
   * call's end, returns that again. Past `until` (the call's bound by default) it
   * cancels the call and throws DEADLINE_EXCEEDED; with an earlier `until` of its own
   * it returns undefined instead.
   */
  take(): FromWorker;
  take(until: number): FromWorker | undefined;
  take(until?: number): FromWorker | undefined {
    return this.#next(until, false);
  }

  #next(until: number | undefined, acks: boolean): FromWorker | undefined {
    if (this.#end !== undefined) return this.#end;
    const bound = this.until;
    const own = until !== undefined && (bound === undefined || until < bound);
    for (;;) {
      let m: FromWorker | undefined;
      try {
        m = this.channel.receive(this.id, own ? until : bound);
      } catch (err) {
        this.release();
        throw err;
      }
      if (m === undefined) {
        if (own) return undefined;
        this.cancel("Deadline Exceeded");
        throw new RpcError(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded: no answer from the blocking client's worker thread by the deadline");
      }
      if (m.t === "ack") {
        this.#unacked--;
        if (acks) return m;
        continue;
      }
      if (m.t === "response" || m.t === "eof" || m.t === "error") this.#end = m;
      return m;
    }
  }

  /** Sends one request; blocks while WRITE_WINDOW requests are not yet taken by flow control. Throws if the call has failed. */
  write(bytes: Uint8Array): void {
    const end = this.#end;
    if (end !== undefined) throw end.t === "error" ? fromWireError(end.error) : new UsageError("The call has ended: no more requests can be written");
    const copy = ownCopy(bytes);
    this.post({ t: "write", id: this.id, bytes: copy }, copy);
    this.#unacked++;
    this.settleWrites(WRITE_WINDOW - 1);
  }

  /** Blocks until at most `max` writes are unacknowledged; throws the call's error if it failed meanwhile. */
  settleWrites(max: number): void {
    while (this.#unacked > max) {
      const m = this.#next(undefined, true)!;
      if (m.t === "error") throw fromWireError(m.error);
      if (m.t === "response" || m.t === "eof") return; // the server answered early: writes are moot
    }
  }

  writeAll<Req>(requests: Iterable<Req>, serialize: (request: Req) => Uint8Array): void {
    try {
      for (const request of requests) this.write(serialize(request));
      this.settleWrites(0);
    } catch (err) {
      // A request that failed to serialize or an iterable that threw: the call goes too.
      if (!(err instanceof RpcError)) this.cancel(`The request iterable failed: ${String(err)}`);
      this.release();
      throw err;
    }
  }

  /** Cancels the call in the worker and forgets it. */
  cancel(details: string): void {
    if (this.channel.closedOrGone === undefined) this.channel.post({ t: "cancel", id: this.id, details });
    this.release();
  }

  release(): void {
    this.channel.release(this.id);
  }
}

