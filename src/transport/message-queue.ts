/**
 * A bounded pull queue between a push source (HTTP/2 'data' events) and one async
 * reader. `push` reports when the buffered bytes pass the high-water mark so the
 * source can pause its stream (and thereby HTTP/2 flow control stops the peer);
 * `onDrained` fires once the reader has brought it back under the low-water mark.
 */
export class MessageQueue<T> {
  private items: T[] = [];
  private sizes: number[] = [];
  // Whether each message arrived compressed; kept only once one did.
  private flags: boolean[] | undefined;
  /** Whether the message most recently handed to the reader arrived compressed. */
  lastCompressed = false;
  private head = 0;
  private bytes = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private waiterReject: ((error: Error) => void) | undefined;
  private finished = false;
  private failure: Error | undefined;
  private paused = false;

  constructor(
    private readonly highWaterBytes: number,
    private readonly onDrained: () => void,
  ) {}

  get bufferedBytes(): number {
    return this.bytes;
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Adds a message; returns false when the source should pause. */
  push(item: T, size: number, compressed = false): boolean {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = this.waiterReject = undefined;
      this.lastCompressed = compressed;
      waiter({ value: item, done: false });
      return true;
    }
    if (compressed && this.flags === undefined) this.flags = this.items.map(() => false);
    this.flags?.push(compressed);
    this.items.push(item);
    this.sizes.push(size);
    this.bytes += size;
    if (this.bytes > this.highWaterBytes) {
      this.paused = true;
      return false;
    }
    return true;
  }

  /** Ends the queue after the buffered items; with an error, the reader sees it after them. */
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

  /** Drops everything buffered (the reader gave up) and ends the queue. */
  discard(error?: Error): void {
    this.items = [];
    this.sizes = [];
    this.flags = undefined;
    this.head = 0;
    this.bytes = 0;
    this.end(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) return Promise.resolve(this.shift());
    if (this.finished) {
      return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) return Promise.reject(new Error("Only one read may be pending at a time"));
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }

  private shift(): IteratorResult<T> {
    const i = this.head++;
    const value = this.items[i]!;
    this.bytes -= this.sizes[i]!;
    this.lastCompressed = this.flags !== undefined && this.flags[i]!;
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.flags = undefined;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.flags = this.flags?.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.bytes <= this.highWaterBytes / 2) {
      this.paused = false;
      this.onDrained();
    }
    return { value, done: false };
  }
}
