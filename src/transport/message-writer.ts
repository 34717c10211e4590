import { frameHeader, frameMessage, RpcError, StatusCode, takeFrame, type Compressor } from "../wire/index.js";

/**
 * One length-prefixed message ready for the wire: prefix and message in one buffer, or,
 * for a large message nobody else holds, the 5-byte prefix and the message itself as
 * two chunks so that the message is not copied (`writev` sends them together).
 */
export type Frame = Buffer | readonly [prefix: Buffer, message: Uint8Array];

/** Where a `MessageWriter` writes: one stream's request or response body. */
export interface FrameSink {
  /** Writes one framed message; false means "wait for `onceDrain`" (HTTP/2 flow control). */
  write(frame: Frame): boolean;
  /** Ends the body, with one last frame when given, so that it goes out in one write. */
  end(frame?: Frame): void;
  onceDrain(listener: () => void): void;
}

// Below this a copy into one buffer costs less than a second chunk.
const SPLIT_FRAME_BYTES = 16 * 1024;

/**
 * Frames one serialized message for the wire: the send limit (RESOURCE_EXHAUSTED past
 * it, thrown), compression when a compressor is given, and the 5-byte prefix (written
 * in place when the encoder left room for it, see `allocateFrame`). `owned`
 * says the bytes were made for this message alone (a serializer's fresh output), so a
 * large one may go out as it is; bytes the caller may reuse are copied.
 */
export function encodeMessage(bytes: Uint8Array, maxLength: number, compressor: Compressor | undefined, owned = false): Frame | Promise<Frame> {
  if (bytes.byteLength > maxLength) {
    throw new RpcError(StatusCode.RESOURCE_EXHAUSTED, `Sent message larger than max (${bytes.byteLength} vs. ${maxLength})`);
  }
  if (compressor === undefined) return takeFrame(bytes) ?? (owned ? frame(bytes, false) : frameMessage(bytes));
  return compressor.compress(bytes).then((compressed) => frame(compressed, true));
}

function frame(bytes: Uint8Array, compressed: boolean): Frame {
  return bytes.byteLength < SPLIT_FRAME_BYTES ? frameMessage(bytes, compressed) : [frameHeader(bytes.byteLength, compressed), bytes];
}

/** Bytes a frame puts on the wire. */
function frameLength(frame: Frame): number {
  return frame instanceof Uint8Array ? frame.byteLength : frame[0].byteLength + frame[1].byteLength;
}

/** The message bytes of a frame, without its 5-byte prefix (what instrumentation counts). */
function frameMessageBytes(frame: Frame): number {
  return frameLength(frame) - 5;
}

/** Whether a frame's message is compressed (the prefix's flag byte). */
function frameCompressed(frame: Frame): boolean {
  return (frame instanceof Uint8Array ? frame[0] : frame[0][0]) === 1;
}

/**
 * Tells a call's instrumentation that `frame` goes out (its message size and whether it
 * is compressed); the sinks of both sides call it for every frame they write.
 */
export function reportSent(observer: { onMessageSent?(bytes: number, compressed: boolean): void }, frame: Frame | undefined): void {
  if (frame !== undefined) observer.onMessageSent?.(frameMessageBytes(frame), frameCompressed(frame));
}

type FrameOut = NodeJS.WritableStream & {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableLength: number;
};

// Small frames written in one tick are copied into one buffer and go out as one write:
// each Node write costs a Writable entry, a native write request and its completion,
// more than the copy of a few hundred bytes (server streaming of 16 B messages spent
// more time in those writes than in the message itself).
const BATCH_FRAME_MAX_BYTES = 1024;
const BATCH_BYTES = 16 * 1024;
const BATCH = Symbol("async-grpc.frameBatch");

interface FrameBatch {
  buffer: Buffer;
  /** Where the bytes not yet handed to the stream start. */
  start: number;
  end: number;
  /** A flush is scheduled for the end of the tick. */
  scheduled: boolean;
}

type BatchingOut = FrameOut & { [BATCH]?: FrameBatch };

/**
 * Writes a frame to a Node writable: a small one joins the frames of the same tick in
 * one buffer (sent at the end of the tick, or when the buffer is full), a split one goes
 * as one `writev` of its two chunks. What was batched always goes out before a later
 * large frame or the end, so the order on the wire is the order of the calls.
 */
export function writeFrame(out: FrameOut, frame: Frame): boolean {
  if (isSmallFrame(frame)) {
    const batch = (out as BatchingOut)[BATCH];
    // Batching starts with the second frame of a tick (the first is still queued in
    // Node then): a unary response goes out as it is, with no batch buffer.
    if ((batch !== undefined && batch.end > batch.start) || out.writableLength > 0) return batchFrame(out as BatchingOut, frame);
    return out.write(frame);
  }
  flushBatch(out as BatchingOut);
  if (frame instanceof Uint8Array) return out.write(frame);
  out.cork();
  out.write(frame[0]);
  const room = out.write(frame[1]);
  out.uncork();
  return room;
}

/** A frame small enough to be batched with the others of its tick (see `writeFrame`). */
export function isSmallFrame(frame: Frame): frame is Buffer {
  return frame instanceof Uint8Array && frame.byteLength <= BATCH_FRAME_MAX_BYTES;
}

function batchFrame(out: BatchingOut, frame: Uint8Array): boolean {
  let room = true;
  let batch = out[BATCH];
  if (batch === undefined) {
    batch = out[BATCH] = { buffer: Buffer.allocUnsafe(BATCH_BYTES), start: 0, end: 0, scheduled: false };
  } else if (batch.end + frame.byteLength > batch.buffer.byteLength) {
    // Full: what it holds goes now, and the next frames fill a new buffer (Node keeps
    // a reference to the bytes written until they are on the wire).
    room = flushBatch(out);
    batch.buffer = Buffer.allocUnsafe(BATCH_BYTES);
    batch.start = batch.end = 0;
  }
  batch.buffer.set(frame, batch.end);
  batch.end += frame.byteLength;
  if (!batch.scheduled) {
    batch.scheduled = true;
    process.nextTick(flushScheduled, out);
  }
  return room;
}

function flushScheduled(out: BatchingOut): void {
  const batch = out[BATCH];
  if (batch === undefined) return;
  batch.scheduled = false;
  flushBatch(out);
}

/** Hands the batched frames to the stream; its answer is whether it has room for more. */
function flushBatch(out: BatchingOut): boolean {
  const batch = out[BATCH];
  if (batch === undefined || batch.end === batch.start) return true;
  const bytes = batch.buffer.subarray(batch.start, batch.end);
  batch.start = batch.end;
  // A stream reset or ended meanwhile takes no more data; the call's status says why.
  if (out.destroyed || out.writableEnded) return false;
  return out.write(bytes);
}

/** Ends a Node writable, after the batched frames and one last frame when given. */
export function endWithFrame(out: FrameOut, frame: Frame | undefined): void {
  flushBatch(out as BatchingOut);
  if (frame === undefined) out.end();
  else if (frame instanceof Uint8Array) out.end(frame);
  else {
    out.write(frame[0]);
    out.end(frame[1]);
  }
}

/** Bytes kept for replays across many writers (a channel's `grpc.retry_buffer_size`). */
export interface ReplayBudget {
  /** Takes `bytes` from the budget; false (taking nothing) when they do not fit. */
  take(bytes: number): boolean;
  give(bytes: number): void;
}

interface Entry {
  frame: Frame | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * What `write()` returns when there is room for more at once: a caller that compares
 * against it skips an await (a promise turn per message).
 */
export const HAS_ROOM: Promise<void> = Promise.resolve();

function ignore(): void {}

/**
 * The one write path of client and server calls: frames go out in order even when
 * some are still being compressed, `write()` resolves once the sink has room for more
 * (so a fast writer waits for a slow reader), and a failure settles every pending
 * write at once. The promises it returns never count as unhandled rejections: a
 * caller who writes without awaiting learns the outcome from the call's status.
 *
 * Until `attach()`, frames wait; a client call writes before its stream exists.
 * With a replay limit, the frames written are kept (up to that many bytes) so that a
 * call refused by the server can be replayed on a new stream (`rewind()`).
 */
export class MessageWriter {
  private sink: FrameSink | undefined;
  private readonly queue: Entry[] = [];
  private blocked = false;
  private drainWaiters: Entry[] | undefined;
  private ending = false;
  private ended = false;
  private failed = false;
  private failure: Error | undefined;
  private replay: Frame[] | undefined;
  private replayBytes = 0;

  /**
   * @param owner told when a frame could not be made or written (compression failed,
   *   the sink threw); the writer has already failed its pending writes with the error.
   * @param replayLimitBytes keep up to this many written bytes for `rewind()`; 0 keeps none.
   * @param budget shared with other writers: what they keep together stays within it.
   */
  constructor(
    private readonly owner: { writeFailed(error: RpcError): void },
    private readonly replayLimitBytes = 0,
    private readonly budget?: ReplayBudget,
  ) {
    if (replayLimitBytes > 0) this.replay = [];
  }

  /** True while every frame written so far is still kept for a replay. */
  get canReplay(): boolean {
    return this.replay !== undefined;
  }

  /** Queues one framed message (or its pending compression); resolves when there is room for more. */
  write(frame: Frame | Promise<Frame>): Promise<void> {
    if (this.failed) return this.settled();
    if (this.ending) return handled(Promise.reject(new Error("write() after the end of the message stream")));
    if (!(frame instanceof Promise) && this.sink !== undefined && !this.blocked && this.queue.length === 0) {
      return this.put(frame) ? HAS_ROOM : this.whenDrained();
    }
    let entry!: Entry;
    const promise = handled(new Promise<void>((resolve, reject) => (entry = { frame: undefined, resolve, reject })));
    this.queue.push(entry);
    if (frame instanceof Promise) {
      frame.then(
        (ready) => {
          entry.frame = ready;
          this.pump();
        },
        (err: unknown) => this.error(err),
      );
    } else {
      entry.frame = frame;
      this.pump();
    }
    return promise;
  }

  /** Ends the stream once every queued frame is out (with the last one, when it can). */
  end(): void {
    if (this.ending || this.failed) return;
    this.ending = true;
    this.pump();
  }

  /** Starts writing to `sink`; queued frames go out now. */
  attach(sink: FrameSink): void {
    if (this.failed) return;
    this.sink = sink;
    this.blocked = false;
    this.pump();
  }

  /**
   * Detaches from the current sink and puts every frame written so far back in front
   * of the queue, for a new stream. Only while `canReplay`.
   */
  rewind(): void {
    const replay = this.replay;
    if (replay === undefined || this.failed) throw new Error("Nothing to replay");
    this.sink = undefined;
    this.blocked = false;
    this.ended = false;
    const entries: Entry[] = replay.map((frame) => ({ frame, resolve: ignore, reject: ignore }));
    this.queue.unshift(...entries);
    this.replay = [];
    // The frames are kept (and counted) again as they go out once more.
    this.budget?.give(this.replayBytes);
    this.replayBytes = 0;
    // Writers waiting for a drain of the old stream are let go; the new one has room.
    this.wakeDrainWaiters();
  }

  /** The call went past the point where a replay is possible; release what was kept. */
  commit(): void {
    if (this.budget !== undefined && this.replayBytes > 0) this.budget.give(this.replayBytes);
    this.replay = undefined;
    this.replayBytes = 0;
  }

  /**
   * Stops for good: queued frames are dropped, and every pending write rejects with
   * `error` (or resolves, without one). Later writes do the same.
   */
  fail(error?: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
    this.sink = undefined;
    this.commit();
    const entries = this.queue.splice(0);
    const waiters = this.drainWaiters ?? [];
    this.drainWaiters = undefined;
    for (const e of [...waiters, ...entries]) error ? e.reject(error) : e.resolve();
  }

  private settled(): Promise<void> {
    return this.failure ? handled(Promise.reject(this.failure)) : HAS_ROOM;
  }

  private pump(): void {
    const queue = this.queue;
    while (this.sink !== undefined && !this.blocked && !this.failed) {
      const entry = queue[0];
      if (entry === undefined) break;
      const frame = entry.frame;
      if (frame === undefined) return; // still compressing; its completion pumps again
      queue.shift();
      if (this.ending && queue.length === 0) {
        this.finish(frame);
        entry.resolve();
        return;
      }
      if (this.put(frame)) entry.resolve();
      else (this.drainWaiters ??= []).push(entry);
    }
    if (this.ending && queue.length === 0 && !this.blocked) this.finish(undefined);
  }

  /** Writes one frame; false when the sink is full (a drain listener is then armed). */
  private put(frame: Frame): boolean {
    this.keep(frame);
    let room: boolean;
    try {
      room = this.sink!.write(frame);
    } catch (err) {
      this.error(err);
      return true;
    }
    if (!room) {
      this.blocked = true;
      const sink = this.sink!;
      // A drain of a stream we were rewound from must not unblock the next one.
      sink.onceDrain(() => {
        if (this.sink === sink) this.onDrain();
      });
    }
    return room;
  }

  private finish(frame: Frame | undefined): void {
    if (this.ended || this.sink === undefined) return;
    this.ended = true;
    if (frame !== undefined) this.keep(frame);
    try {
      this.sink.end(frame);
    } catch (err) {
      this.error(err);
    }
  }

  private keep(frame: Frame): void {
    const replay = this.replay;
    if (replay === undefined) return;
    const bytes = frameLength(frame);
    if (this.replayBytes + bytes > this.replayLimitBytes || (this.budget !== undefined && !this.budget.take(bytes))) {
      this.commit();
      return;
    }
    this.replayBytes += bytes;
    replay.push(frame);
  }

  private whenDrained(): Promise<void> {
    return handled(new Promise<void>((resolve, reject) => (this.drainWaiters ??= []).push({ frame: undefined, resolve, reject })));
  }

  private onDrain(): void {
    this.blocked = false;
    this.wakeDrainWaiters();
    this.pump();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = undefined;
    if (waiters) for (const w of waiters) w.resolve();
  }

  private error(err: unknown): void {
    if (this.failed) return;
    const error = RpcError.from(err, StatusCode.INTERNAL);
    this.fail(error);
    this.owner.writeFailed(error);
  }
}

/** Marks a promise as handled (it still rejects for whoever awaits it). */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(ignore);
  return promise;
}
