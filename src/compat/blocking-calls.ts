import { EOF, InternalError, Metadata, RpcError, StatusCode, UsageError, type CallOptions } from "../index.js";
import type { CallSlot } from "./blocking-call-slot.js";
import { fromWireError, toOutcome, type FromWorker } from "./blocking-protocol.js";
import type { CallOutcome, WithCall } from "./call-future.js";
import { FutureCancelledError, FutureTimeoutError, runCallback } from "./future.js";

/** Per-call options of the blocking client: those of the async core but `signal` (a blocked thread cannot watch one). */
export type BlockingCallOptions = Omit<CallOptions, "signal">;

/** Calls a unary method and returns its response (gRPC Python's sync `UnaryUnaryMultiCallable`). */
export type BlockingUnaryUnaryMultiCallable<Req, Res> = ((request: Req, options?: BlockingCallOptions) => Res) & {
  /** The response with the call's status and metadata (gRPC Python `with_call()`). */
  withCall(request: Req, options?: BlockingCallOptions): WithCall<Res>;
  /** Starts the call without waiting; `result()` blocks for it (gRPC Python `future()`). */
  future(request: Req, options?: BlockingCallOptions): BlockingFuture<Res>;
};

/** Calls a server-streaming method; the call is a synchronous iterator (gRPC Python's sync `UnaryStreamMultiCallable`). */
export type BlockingUnaryStreamMultiCallable<Req, Res> = (request: Req, options?: BlockingCallOptions) => BlockingResponseStream<Res>;

/** Sends a synchronous iterable of requests and returns the response (gRPC Python's sync `StreamUnaryMultiCallable`). */
export type BlockingStreamUnaryMultiCallable<Req, Res> = ((requests: Iterable<Req>, options?: BlockingCallOptions) => Res) & {
  /** The response with the call's status and metadata (gRPC Python `with_call()`). */
  withCall(requests: Iterable<Req>, options?: BlockingCallOptions): WithCall<Res>;
  /** Sends the requests, then returns without waiting for the response (gRPC Python `future()`). */
  future(requests: Iterable<Req>, options?: BlockingCallOptions): BlockingFuture<Res>;
};

/** Starts a bidirectional call (gRPC Python's sync `StreamStreamMultiCallable`). */
export type BlockingStreamStreamMultiCallable<Req, Res> = (requests?: Iterable<Req>, options?: BlockingCallOptions) => BlockingStreamStreamCall<Req, Res>;

function outcomeOfError(e: Error): CallOutcome {
  if (e instanceof RpcError) return { code: e.code, details: e.details, initialMetadata: e.initialMetadata, trailingMetadata: e.trailingMetadata };
  return { code: StatusCode.UNKNOWN, details: e.message, initialMetadata: new Metadata(), trailingMetadata: new Metadata() };
}

/**
 * A call's stream of responses, read by blocking (gRPC Python's sync streaming call,
 * an iterator that is also a `grpc.Call`): `for (const r of call)`, or `read()` until
 * `EOF` (not both). Leaving the loop early cancels the call. The status accessors block
 * until the call ends.
 */
export class BlockingResponseStream<Res> implements IterableIterator<Res> {
  #style: "read" | "iterate" | undefined;
  /** The final status, once known (the end was read, or code() and the like asked for it). */
  #outcome: CallOutcome | undefined;
  /** No more responses: the end was read, the call failed or it was cancelled. */
  #finished = false;
  #error: Error | undefined;
  #headers: Metadata | undefined;

  /** @internal Made by a blocking channel's multi-callables. */
  constructor(
    protected readonly slot: CallSlot,
    protected readonly deserialize: (bytes: Uint8Array) => Res,
  ) {}

  [Symbol.iterator](): this {
    this.#useStyle("iterate");
    return this;
  }

  /** The next response; blocks until it comes. Throws the call's `RpcError` if it failed. */
  next(): IteratorResult<Res, undefined> {
    const r = this.#pull();
    return r === EOF ? { done: true, value: undefined } : { done: false, value: r };
  }

  /** Called when a loop is left early: cancels the call, so the server stops producing. */
  return(): IteratorResult<Res, undefined> {
    if (!this.#finished) {
      this.slot.cancel("The response stream was abandoned by its reader");
      if (this.#outcome === undefined) this.#fail(new RpcError(StatusCode.CANCELLED, "The response stream was abandoned by its reader"));
      this.#finished = true;
    }
    return { done: true, value: undefined };
  }

  /** The next response, or `EOF` after the last (gRPC Python `read()`). */
  read(): Res | EOF {
    this.#useStyle("read");
    return this.#pull();
  }

  /** Cancels the call; false if it had already ended (gRPC Python `cancel()`). */
  cancel(details = "Cancelled by the application"): boolean {
    if (this.#finished || this.#outcome !== undefined) return false;
    this.slot.cancel(details);
    this.#fail(new RpcError(StatusCode.CANCELLED, details));
    return true;
  }

  /** True once the call is known to have ended: its end was read, or its status (gRPC Python `done()`). */
  done(): boolean {
    return this.#outcome !== undefined;
  }

  /** The status code; blocks until the call ends (gRPC Python `code()`). */
  code(): StatusCode {
    return this.#finalOutcome().code;
  }

  /** The status details; blocks until the call ends (gRPC Python `details()`). */
  details(): string {
    return this.#finalOutcome().details;
  }

  /** The trailers; blocks until the call ends (gRPC Python `trailing_metadata()`). */
  trailingMetadata(): Metadata {
    return this.#finalOutcome().trailingMetadata;
  }

  /** The server's headers; blocks until they arrive (gRPC Python `initial_metadata()`). */
  initialMetadata(): Metadata {
    if (this.#headers !== undefined) return this.#headers;
    if (this.#finished) return this.#finalOutcome().initialMetadata;
    this.slot.post({ t: "headers", id: this.slot.id });
    const m = this.#take();
    if (m.t === "headers") return (this.#headers = new Metadata(m.metadata));
    return this.#finalOutcome().initialMetadata;
  }

  #useStyle(style: "read" | "iterate"): void {
    if (this.#style !== undefined && this.#style !== style) {
      throw new UsageError("A call's responses are read either with read() or by iteration, not both: pick one for the whole call");
    }
    this.#style = style;
  }

  #pull(): Res | EOF {
    if (this.#error !== undefined) throw this.#error;
    if (this.#finished) return EOF;
    this.slot.post({ t: "next", id: this.slot.id });
    const m = this.#take();
    if (m.t === "message") return this.deserialize(m.bytes);
    if (m.t === "eof") return EOF;
    throw this.#error!;
  }

  /** The next message; an end (eof, error, or a failed wait) is recorded before it is returned or thrown. */
  #take(): FromWorker {
    let m: FromWorker;
    try {
      m = this.slot.take();
    } catch (err) {
      this.#fail(err as Error);
      throw err;
    }
    if (m.t === "eof") {
      this.#outcome = toOutcome(m.outcome);
      this.#finished = true;
      this.slot.release();
    } else if (m.t === "error") {
      this.#fail(fromWireError(m.error));
    }
    return m;
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#error = error;
    this.#outcome = outcomeOfError(error);
    this.slot.release();
  }

  #finalOutcome(): CallOutcome {
    if (this.#outcome !== undefined) return this.#outcome;
    this.slot.post({ t: "status", id: this.slot.id });
    try {
      const m = this.#take();
      // The responses not read yet can still be read.
      if (m.t === "status") this.#outcome = toOutcome(m.outcome);
    } catch {
      // recorded by #take
    }
    return this.#outcome!;
  }
}

/**
 * A bidirectional call on the blocking client: `write()` blocks while HTTP/2 flow
 * control holds the request back, `doneWriting()` half-closes, and the responses are
 * read as from `BlockingResponseStream`. Reading and writing take turns on the one
 * thread: a server that answers only after all requests needs `doneWriting()` first.
 */
export class BlockingStreamStreamCall<Req, Res> extends BlockingResponseStream<Res> {
  #writesDone = false;

  /** @internal */
  constructor(
    slot: CallSlot,
    private readonly serialize: (request: Req) => Uint8Array,
    deserialize: (bytes: Uint8Array) => Res,
  ) {
    super(slot, deserialize);
  }

  /** Sends one request (gRPC Python `write()`); throws the call's `RpcError` if it has failed. */
  write(request: Req): void {
    if (this.#writesDone) throw new UsageError("write() after doneWriting(): write every request first, then call doneWriting() once");
    this.slot.write(this.serialize(request));
  }

  /** Half-closes the request stream (gRPC Python `done_writing()`). */
  doneWriting(): void {
    if (this.#writesDone) return;
    this.#writesDone = true;
    this.slot.post({ t: "end", id: this.slot.id });
  }
}

type FutureState<T> = { kind: "running" } | { kind: "finished"; value: T; outcome?: CallOutcome } | { kind: "failed"; error: Error } | { kind: "cancelled" };

/**
 * A call on the blocking client that runs while the thread does other things (gRPC
 * Python's `grpc.Future` from `future()`): `result(timeoutMs?)` blocks until the
 * response, throwing its `RpcError`, `FutureTimeoutError` when `timeoutMs` passes
 * first, or `FutureCancelledError`. Done callbacks run on this thread when it is free
 * (at once if the future is done).
 */
export class BlockingFuture<Res> {
  #state: FutureState<Res> = { kind: "running" };
  #callbacks: ((future: BlockingFuture<Res>) => void)[] | undefined;

  /** @internal Made by `future()` of a blocking multi-callable. */
  constructor(
    private readonly slot: CallSlot,
    private readonly deserialize: (bytes: Uint8Array) => Res,
  ) {
    // A message arriving while the thread is free settles the future there.
    slot.channel.watch(slot.id, () => queueMicrotask(() => this.#poll()));
  }

  /** Blocks for the response (gRPC Python `result(timeout)`). */
  result(timeoutMs?: number): Res {
    const state = this.#wait(timeoutMs);
    if (state.kind === "failed") throw state.error;
    return state.value;
  }

  /** Blocks for the outcome: the error, or undefined on success (gRPC Python `exception(timeout)`). */
  exception(timeoutMs?: number): Error | undefined {
    const state = this.#wait(timeoutMs);
    return state.kind === "failed" ? state.error : undefined;
  }

  /** The error's stack, or undefined on success (gRPC Python `traceback(timeout)`). */
  traceback(timeoutMs?: number): string | undefined {
    return this.exception(timeoutMs)?.stack;
  }

  /** Cancels the call; false if it had already ended (gRPC Python `cancel()`). */
  cancel(): boolean {
    if (this.done()) return false;
    this.slot.cancel("Cancelled through its future");
    this.#settle({ kind: "cancelled" });
    return true;
  }

  cancelled(): boolean {
    return this.#state.kind === "cancelled";
  }

  running(): boolean {
    return !this.done();
  }

  /** True once the call has ended (gRPC Python `done()`); never blocks. */
  done(): boolean {
    if (this.#state.kind === "running") this.#poll();
    return this.#state.kind !== "running";
  }

  /** Runs `callback(future)` when the call ends, at once if it has (gRPC Python `add_done_callback()`). */
  addDoneCallback(callback: (future: BlockingFuture<Res>) => void): void {
    if (this.done()) runCallback(callback, this);
    else (this.#callbacks ??= []).push(callback);
  }

  #poll(): void {
    if (this.#state.kind !== "running") return;
    this.slot.channel.poll();
    const broken = this.slot.channel.closedOrGone;
    try {
      const m = this.slot.take(0);
      if (m !== undefined) this.#settleFrom(m);
      else if (broken) this.#settle({ kind: "failed", error: broken });
    } catch (err) {
      this.#settle({ kind: "failed", error: err as Error });
    }
  }

  #wait(timeoutMs: number | undefined): Exclude<FutureState<Res>, { kind: "running" | "cancelled" }> {
    if (this.#state.kind === "running") {
      try {
        const m = timeoutMs === undefined ? this.slot.take() : this.slot.take(Date.now() + timeoutMs);
        if (m === undefined) throw new FutureTimeoutError(`No result within ${timeoutMs} ms`);
        this.#settleFrom(m);
      } catch (err) {
        if (err instanceof FutureTimeoutError) throw err;
        this.#settle({ kind: "failed", error: err as Error });
      }
    }
    const state = this.#state;
    if (state.kind === "cancelled") throw new FutureCancelledError("The future was cancelled");
    if (state.kind === "running") throw new FutureTimeoutError("No result yet");
    return state;
  }

  #settleFrom(m: FromWorker): void {
    this.slot.release();
    if (m.t === "response") this.#settle({ kind: "finished", value: this.deserialize(m.bytes) });
    else if (m.t === "error") this.#settle({ kind: "failed", error: fromWireError(m.error) });
    else this.#settle({ kind: "failed", error: new InternalError(`Unexpected ${m.t} from the blocking client's worker`) });
  }

  #settle(state: FutureState<Res>): void {
    if (this.#state.kind !== "running") return;
    this.#state = state;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks) for (const cb of callbacks) runCallback(cb, this);
  }
}
