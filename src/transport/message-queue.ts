/**
 * Turns one received message (as it came off the wire, possibly compressed) into
 * what the reader gets. It may be asynchronous (decompression); it throws or rejects
 * when the message is bad, and the queue hands that error to the reader.
 */
export interface MessageDecoding<T> {
  decodeMessage(bytes: Uint8Array, compressed: boolean): T | Promise<T>;
}

/** Who a queue serves (a call): decodes its messages, and resumes its stream once the reader has caught up. */
export interface QueueOwner<T> extends MessageDecoding<T> {
  onQueueDrained(): void;
}

/**
 * A bounded pull queue between a push source (a stream's DATA, already framed) and
 * one async reader.
 *
 * Messages are kept as they arrived and decoded only when the reader pulls them, so
 * what is buffered is counted in wire bytes and at most one message per pending read
 * is being inflated: a peer that sends small compressed frames that each inflate to
 * the receive limit cannot make us inflate more than the reader asks for. `push`
 * reports when the buffered bytes pass the high-water mark so the source can pause
 * its stream (and thereby flow control stops the peer); `onQueueDrained` is told once
 * the reader has brought it back under the low-water mark.
 *
 * Once the reader gives up (`discard`) or the queue has ended, pushed messages are
 * dropped and never pause the source.
 */
export class MessageQueue<T> {
  private frames: Uint8Array[] = [];
  // Whether each buffered message arrived compressed; kept only once one did.
  private flags: boolean[] | undefined;
  /** Whether the message most recently handed to the reader arrived compressed. */
  lastCompressed = false;
  private head = 0;
  private bytes = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private waiterReject: ((error: unknown) => void) | undefined;
  private finished = false;
  private failure: Error | undefined;
  private paused = false;

  constructor(
    private readonly highWaterBytes: number,
    private readonly owner: QueueOwner<T>,
  ) {}

  get ended(): boolean {
    return this.finished;
  }

  /** Adds a message; returns false when the source should pause. */
  push(bytes: Uint8Array, compressed: boolean): boolean {
    if (this.finished) return true;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      const reject = this.waiterReject!;
      this.waiter = this.waiterReject = undefined;
      this.deliver(bytes, compressed, waiter, reject);
      return true;
    }
    if (compressed && this.flags === undefined) this.flags = this.frames.map(() => false);
    this.flags?.push(compressed);
    this.frames.push(bytes);
    this.bytes += bytes.byteLength;
    if (this.bytes > this.highWaterBytes) {
      this.paused = true;
      return false;
    }
    return true;
  }

  /** Ends the queue after the buffered messages; with an error, the reader sees it after them. */
  end(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    const reject = this.waiterReject!;
    this.waiter = this.waiterReject = undefined;
    if (error) reject(error);
    else waiter({ value: undefined, done: true });
  }

  /** Drops everything buffered (the reader gave up, or the call is over) and ends the queue. */
  discard(error?: Error): void {
    this.frames = [];
    this.flags = undefined;
    this.head = 0;
    this.bytes = 0;
    this.paused = false;
    this.end(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.frames.length) {
      const i = this.head;
      const bytes = this.frames[i]!;
      const compressed = this.flags !== undefined && this.flags[i]!;
      this.shift();
      this.lastCompressed = compressed;
      let value: T | Promise<T>;
      try {
        value = this.owner.decodeMessage(bytes, compressed);
      } catch (err) {
        return Promise.reject(err);
      }
      return value instanceof Promise ? value.then(asResult) : Promise.resolve({ value, done: false });
    }
    if (this.finished) {
      return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) return Promise.reject(new Error("Only one read may be pending at a time"));
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }

  private deliver(
    bytes: Uint8Array,
    compressed: boolean,
    resolve: (result: IteratorResult<T>) => void,
    reject: (error: unknown) => void,
  ): void {
    this.lastCompressed = compressed;
    let value: T | Promise<T>;
    try {
      value = this.owner.decodeMessage(bytes, compressed);
    } catch (err) {
      reject(err);
      return;
    }
    if (value instanceof Promise) value.then((v) => resolve({ value: v, done: false }), reject);
    else resolve({ value, done: false });
  }

  /** Drops the head message (the caller has taken it). */
  private shift(): void {
    const bytes = this.frames[this.head++]!;
    this.bytes -= bytes.byteLength;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.flags = undefined;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.flags = this.flags?.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.bytes <= this.highWaterBytes / 2) {
      this.paused = false;
      this.owner.onQueueDrained();
    }
  }
}

function asResult<T>(value: T): IteratorResult<T> {
  return { value, done: false };
}
