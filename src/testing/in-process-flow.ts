import type { IncomingHeaders } from "async-grpc";

// One direction of an in-process stream (see in-process-stream.ts): its items in
// order, a window of undelivered bytes, and the one immediate that delivers them all.

/** The stream a flow belongs to, as the flow delivers to it. */
export interface FlowEnds {
  deliverData(toServer: boolean, chunk: Uint8Array): void;
  deliverSignal(toServer: boolean, signal: Signal): void;
  /** Whether the server's call listens (until then, requests wait). */
  readonly serverListening: boolean;
}

/** What a non-data item of a flow is. */
export enum Kind {
  Accept,
  Headers,
  Trailers,
  End,
  Close,
}

/** A header block, the end of a direction, or the close; data travels as plain chunks. */
export class Signal {
  constructor(
    readonly kind: Kind,
    readonly headers?: IncomingHeaders,
    readonly raw?: string[],
    readonly endStream = false,
  ) {}
}

/** The client's header block, for the server to accept the stream. */
export const ACCEPT = new Signal(Kind.Accept);
export const END = new Signal(Kind.End);
export const CLOSE = new Signal(Kind.Close);

export type Item = Uint8Array | Signal;

/**
 * One direction of a stream: what the sender wrote and the receiver has not been
 * given yet, delivered in order on a later turn of the event loop (as a socket would)
 * while the receiver is not paused. `buffered` counts undelivered data bytes; past
 * the window the sender's `write()` says "wait", and the drain comes once the
 * receiver has taken enough.
 */
export class Flow {
  items: Item[] = [];
  head = 0;
  buffered = 0;
  paused = false;
  queued = false;
  private drainWaiters: (() => void)[] | undefined;

  constructor(
    private readonly stream: FlowEnds,
    readonly toServer: boolean,
    readonly window: number,
  ) {}

  push(item: Item): void {
    this.items.push(item);
    if (item instanceof Uint8Array) this.buffered += item.byteLength;
    schedule(this);
  }

  /** Drops what was not delivered (a reset); the close may still follow. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.buffered = 0;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    schedule(this);
  }

  onceDrain(listener: () => void): void {
    (this.drainWaiters ??= []).push(listener);
  }

  get hasRoom(): boolean {
    return this.buffered < this.window;
  }

  /** Delivers what was queued before this turn; what the receiver's reactions queue goes on the next. */
  flush(): void {
    const items = this.items;
    const last = items.length;
    const stream = this.stream;
    while (this.head < last && this.items === items) {
      const item = items[this.head]!;
      if (this.heldBack(item)) break;
      this.head++;
      if (item instanceof Uint8Array) {
        this.buffered -= item.byteLength;
        stream.deliverData(this.toServer, item);
      } else {
        stream.deliverSignal(this.toServer, item);
      }
    }
    if (this.items === items && this.head === items.length) {
      this.items = [];
      this.head = 0;
    }
    const waiters = this.drainWaiters;
    if (waiters !== undefined && this.hasRoom) {
      this.drainWaiters = undefined;
      for (const w of waiters) w();
    }
    // Queued while we delivered: on the next turn, unless the receiver holds it back.
    if (this.head < this.items.length && !this.heldBack(this.items[this.head]!)) schedule(this);
  }

  /**
   * Whether the receiver does not take `item` now: it paused, or (the server's side)
   * its call has not started listening. The close is never held back, as a reset
   * stream's is not.
   */
  private heldBack(item: Item): boolean {
    if (item === CLOSE) return false;
    return this.paused || (this.toServer && item !== ACCEPT && !this.stream.serverListening);
  }
}

// One immediate delivers every flow with something to deliver: a call costs no timer
// of its own, and a stream that never stops writing still lets timers and I/O run.
let dirty: Flow[] = [];
let scheduled = false;

/** Delivers `flow` on the next turn of the event loop. */
export function schedule(flow: Flow): void {
  if (flow.queued) return;
  flow.queued = true;
  dirty.push(flow);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  scheduled = false;
  const flows = dirty;
  dirty = [];
  for (const flow of flows) {
    flow.queued = false;
    try {
      flow.flush();
    } catch (err) {
      // Uncaught, as a throw in a socket's event listener would be, but only once the
      // other streams have had their turn.
      process.nextTick(rethrow, err);
    }
  }
}

function rethrow(err: unknown): never {
  throw err;
}
