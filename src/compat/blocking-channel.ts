import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { InternalError, Metadata, parseTarget, RpcError, StatusCode, UsageError, type CallOptions, type ChannelCredentials, type ChannelOptions, type MethodSerializers } from "../index.js";
import {
  GONE,
  HEARTBEAT,
  ownCopy,
  SLOTS,
  STATE,
  WAKE,
  fromWireError,
  type CallKind,
  type FromWorker,
  type ToWorker,
  toOutcome,
  type WireCallOptions,
} from "./blocking-protocol.js";
import type { BlockingWorkerData } from "./blocking-worker.js";
import { CallSlot, DEADLINE_GRACE_MS } from "./blocking-call-slot.js";
import {
  BlockingFuture,
  BlockingResponseStream,
  BlockingStreamStreamCall,
  type BlockingCallOptions,
  type BlockingStreamStreamMultiCallable,
  type BlockingStreamUnaryMultiCallable,
  type BlockingUnaryStreamMultiCallable,
  type BlockingUnaryUnaryMultiCallable,
} from "./blocking-calls.js";
import type { WithCall } from "./call-future.js";

/** Options of a blocking channel or client. */
export interface BlockingChannelOptions {
  /** gRPC channel arguments for the channel in the worker, as `insecureChannel()` takes them. */
  options?: ChannelOptions;
  /** Default request compression: "identity", "gzip" or "deflate". */
  compression?: string;
  /** The timeout of every call that sets neither `timeoutMs` nor `deadline`, so that no call can block forever. */
  defaultTimeoutMs?: number;
  /**
   * How long the worker thread may stay silent (no heartbeat) before a blocked call
   * gives up on it with INTERNAL; 5000 ms by default. It only runs the transport, so
   * silence means it hung or died.
   */
  workerStallTimeoutMs?: number;
  /**
   * A module (path or URL) whose default export is a `ClientInterceptor[]`: interceptors
   * run in the worker thread, next to the channel, so they cannot come as functions.
   */
  interceptorsModule?: string | URL;
}

const WAIT_SLICE_MS = 250;
const DEFAULT_STALL_MS = 5000;
// A worker still loading its modules has not started its heartbeat yet.
const STARTUP_ALLOWANCE_MS = 30_000;
const CLOSE_WAIT_MS = 1000;

type Serialize<T> = (value: T) => Uint8Array;
type Deserialize<T> = (bytes: Uint8Array) => T;

/**
 * A channel whose calls block the calling thread (gRPC Python's synchronous
 * `grpc.Channel`). The async core runs in a worker thread; the caller sleeps in
 * `Atomics.wait` until the worker has the answer. Unary calls return the response,
 * server-streaming calls return a synchronous iterator, request streams are synchronous
 * iterables. Failures throw the same `RpcError` as the async core.
 *
 * The server must not run on the calling thread: while it is blocked, nothing else
 * runs there. An unclosed channel does not keep the process alive; `close()` ends the
 * worker.
 */
export class BlockingChannel {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #view: Int32Array;
  readonly #defaultTimeoutMs: number | undefined;
  readonly #stallMs: number;
  #nextId = 1;
  /** Messages of live calls, by call id; a message for an id not here is dropped. */
  readonly #inbox = new Map<number, FromWorker[]>();
  /** Futures told on the event loop when a message for them arrives. */
  readonly #watchers = new Map<number, () => void>();
  #closed = false;
  #closeAcknowledged = false;
  #gone: string | undefined;

  /** Starts the worker thread; it connects on the first call. `credentials` makes a TLS channel. */
  constructor(target: string, credentials?: ChannelCredentials, options: BlockingChannelOptions = {}) {
    parseTarget(target); // a bad target throws here, not later in the worker
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#stallMs = options.workerStallTimeoutMs ?? DEFAULT_STALL_MS;
    const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.#view = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    const data: BlockingWorkerData = {
      port: port2,
      shared,
      target,
      tls: credentials?.tls,
      config: { options: options.options, compression: options.compression },
      interceptorsModule: options.interceptorsModule === undefined ? undefined : String(options.interceptorsModule),
    };
    try {
      this.#worker = new Worker(new URL("./blocking-worker.js", import.meta.url), { workerData: data, transferList: [port2] });
    } catch (err) {
      if (err instanceof Error && err.name === "DataCloneError") {
        throw new TypeError(`A blocking channel's credentials and options must be plain data that can cross to its worker thread: ${err.message}`);
      }
      throw err;
    }
    // Neither the thread nor the port may keep the process alive.
    this.#worker.unref();
    this.#worker.on("error", (err) => this.#markGone(`crashed: ${err.message}`));
    this.#worker.on("exit", (code) => this.#markGone(`exited with code ${code}`));
    this.#port = port1;
    // On the event loop messages come as events (futures complete, callbacks run);
    // while the thread is blocked, receiveMessageOnPort takes them first.
    port1.on("message", (m: FromWorker) => this.#route(m));
    port1.unref();
  }

  /** A unary multi-callable for `path` ("/package.Service/Method") (gRPC Python `unary_unary()`). */
  unaryUnary<Req = Uint8Array, Res = Uint8Array>(path: string, serializers?: MethodSerializers<Req, Res>): BlockingUnaryUnaryMultiCallable<Req, Res> {
    const [serialize, deserialize] = checked(path, serializers);
    const call = (request: Req, options?: BlockingCallOptions, outcome = false) => this.#start("unary", path, serialize(request), options, outcome);
    return Object.assign((request: Req, options?: BlockingCallOptions): Res => this.#response(call(request, options), deserialize).response, {
      withCall: (request: Req, options?: BlockingCallOptions): WithCall<Res> => this.#response(call(request, options, true), deserialize),
      future: (request: Req, options?: BlockingCallOptions): BlockingFuture<Res> => new BlockingFuture(call(request, options), deserialize),
    });
  }

  /** A server-streaming multi-callable (gRPC Python `unary_stream()`): the call is a synchronous iterator. */
  unaryStream<Req = Uint8Array, Res = Uint8Array>(path: string, serializers?: MethodSerializers<Req, Res>): BlockingUnaryStreamMultiCallable<Req, Res> {
    const [serialize, deserialize] = checked(path, serializers);
    return (request: Req, options?: BlockingCallOptions) => new BlockingResponseStream(this.#start("server_streaming", path, serialize(request), options, false), deserialize);
  }

  /** A client-streaming multi-callable (gRPC Python `stream_unary()`): requests are a synchronous iterable. */
  streamUnary<Req = Uint8Array, Res = Uint8Array>(path: string, serializers?: MethodSerializers<Req, Res>): BlockingStreamUnaryMultiCallable<Req, Res> {
    const [serialize, deserialize] = checked(path, serializers);
    const call = (requests: Iterable<Req>, options?: BlockingCallOptions, outcome = false) => {
      const slot = this.#start("client_streaming", path, undefined, options, outcome);
      slot.writeAll(requests, serialize);
      slot.post({ t: "end", id: slot.id });
      return slot;
    };
    return Object.assign((requests: Iterable<Req>, options?: BlockingCallOptions): Res => this.#response(call(requests, options), deserialize).response, {
      withCall: (requests: Iterable<Req>, options?: BlockingCallOptions): WithCall<Res> => this.#response(call(requests, options, true), deserialize),
      future: (requests: Iterable<Req>, options?: BlockingCallOptions): BlockingFuture<Res> => new BlockingFuture(call(requests, options), deserialize),
    });
  }

  /**
   * A bidirectional multi-callable (gRPC Python `stream_stream()`): the call has
   * blocking `write()`/`doneWriting()` and is a synchronous iterator of responses.
   * Given `requests`, it sends them all and half-closes before returning.
   */
  streamStream<Req = Uint8Array, Res = Uint8Array>(path: string, serializers?: MethodSerializers<Req, Res>): BlockingStreamStreamMultiCallable<Req, Res> {
    const [serialize, deserialize] = checked(path, serializers);
    return (requests?: Iterable<Req>, options?: BlockingCallOptions) => {
      const call = new BlockingStreamStreamCall(this.#start("bidi_streaming", path, undefined, options, false), serialize, deserialize);
      if (requests !== undefined) {
        for (const request of requests) call.write(request);
        call.doneWriting();
      }
      return call;
    };
  }

  /**
   * Blocks until the channel is READY, connecting it (the core's `channelReady()`, gRPC
   * Python's `grpc.channel_ready_future(channel).result(timeout)`); throws
   * DEADLINE_EXCEEDED if `timeoutMs` passes first.
   */
  channelReady(timeoutMs?: number): void {
    const until = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const slot = this.#open(until === undefined ? undefined : until - DEADLINE_GRACE_MS, { t: "ready", id: 0 });
    const m = slot.take();
    slot.release();
    if (m.t === "error") throw fromWireError(m.error);
  }

  /**
   * Closes the channel and ends its worker thread (gRPC Python `close()`): calls in
   * flight (open response streams) fail with CANCELLED, as do later calls.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#gone === undefined) {
      this.#port.postMessage({ t: "close" } satisfies ToWorker);
      // Let the worker cancel its calls and say goodbye to the server, briefly.
      const until = Date.now() + CLOSE_WAIT_MS;
      while (!this.#closeAcknowledged && this.#gone === undefined && Date.now() < until) {
        const seen = Atomics.load(this.#view, WAKE);
        if (this.#drain()) continue;
        if (Atomics.load(this.#view, STATE) === GONE) break;
        Atomics.wait(this.#view, WAKE, seen, until - Date.now());
      }
    }
    for (const watcher of [...this.#watchers.values()]) watcher();
    this.#inbox.clear();
    this.#port.close();
    void this.#worker.terminate();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- calls ---------------------------------------------------------------------

  #start(kind: CallKind, path: string, request: Uint8Array | undefined, options: BlockingCallOptions | undefined, outcome: boolean): CallSlot {
    if ((options as CallOptions | undefined)?.signal !== undefined) {
      throw new UsageError("A blocking call cannot watch an AbortSignal (its thread is asleep): give it timeoutMs or a deadline");
    }
    const deadline = deadlineOf(options, this.#defaultTimeoutMs);
    const wire: WireCallOptions = {
      deadline,
      metadata: options?.metadata === undefined ? undefined : [...new Metadata(options.metadata)],
      waitForReady: options?.waitForReady,
      compression: options?.compression,
    };
    const copy = request === undefined ? undefined : ownCopy(request);
    return this.#open(deadline, { t: "start", id: 0, kind, path, request: copy, options: wire, outcome }, copy);
  }

  /** Registers a call id and sends its first message (`first.id` is filled in). */
  #open(deadline: number | undefined, first: ToWorker & { id: number }, request?: Uint8Array<ArrayBuffer>): CallSlot {
    this.#check();
    const id = this.#nextId++;
    this.#inbox.set(id, []);
    first.id = id;
    this.#post(first, request);
    return new CallSlot(this, id, deadline);
  }

  #response<Res>(slot: CallSlot, deserialize: Deserialize<Res>): WithCall<Res> {
    const m = slot.take();
    slot.release();
    if (m.t === "error") throw fromWireError(m.error);
    if (m.t !== "response") throw unexpected(m);
    const response = deserialize(m.bytes);
    return { response, call: m.outcome ? toOutcome(m.outcome) : (undefined as never) };
  }

  // ---- the wait --------------------------------------------------------------------

  /** @internal Sends `message` to the worker; `bytes` (if any) is transferred. */
  post(message: ToWorker, bytes?: Uint8Array<ArrayBuffer>): void {
    this.#check();
    this.#post(message, bytes);
  }

  #post(message: ToWorker, bytes?: Uint8Array<ArrayBuffer>): void {
    this.#port.postMessage(message, bytes ? [bytes.buffer] : undefined);
  }

  /**
   * @internal The next message for call `id`, blocking until it comes or `until`
   * (epoch ms) passes (then undefined). Throws once the channel is closed or its worker gone.
   */
  receive(id: number, until: number | undefined): FromWorker | undefined {
    const queue = this.#inbox.get(id);
    if (queue === undefined) this.#check();
    if (queue === undefined) throw new RpcError(StatusCode.CANCELLED, "The call has ended");
    const view = this.#view;
    let beat = Atomics.load(view, HEARTBEAT);
    let beatAt = Date.now();
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) return next;
      this.#check();
      const seen = Atomics.load(view, WAKE);
      if (this.#drain()) continue;
      if (Atomics.load(view, STATE) === GONE) {
        // The worker posts its last words before it marks itself gone.
        this.#drain();
        this.#markGone("exited");
        continue;
      }
      const now = Date.now();
      if (until !== undefined && now >= until) return undefined;
      const b = Atomics.load(view, HEARTBEAT);
      if (b !== beat) {
        beat = b;
        beatAt = now;
      } else if (now - beatAt > (b === 0 ? Math.max(this.#stallMs, STARTUP_ALLOWANCE_MS) : this.#stallMs)) {
        this.#markGone(`stopped responding (no heartbeat for ${now - beatAt} ms)`);
        void this.#worker.terminate();
        continue;
      }
      Atomics.wait(view, WAKE, seen, until === undefined ? WAIT_SLICE_MS : Math.min(WAIT_SLICE_MS, until - now));
    }
  }

  /** @internal Non-blocking: takes what the worker has sent so far; true if there was anything. */
  poll(): boolean {
    return this.#drain();
  }

  /** @internal Forgets call `id`: later messages for it are dropped. */
  release(id: number): void {
    this.#inbox.delete(id);
    this.#watchers.delete(id);
  }

  /** @internal Runs `watcher` (on the event loop or during a wait) when a message for `id` arrives, or the channel ends. */
  watch(id: number, watcher: () => void): void {
    this.#watchers.set(id, watcher);
  }

  /** @internal */
  get closedOrGone(): RpcError | undefined {
    if (this.#closed) return new RpcError(StatusCode.CANCELLED, "Channel closed");
    if (this.#gone !== undefined) {
      return new RpcError(
        StatusCode.INTERNAL,
        `The blocking client's worker thread ${this.#gone}; calls on this client fail from now on: close it and make a new one`,
      );
    }
    return undefined;
  }

  #check(): void {
    const error = this.closedOrGone;
    if (error) throw error;
  }

  #drain(): boolean {
    let any = false;
    for (let r = receiveMessageOnPort(this.#port); r !== undefined; r = receiveMessageOnPort(this.#port)) {
      this.#route(r.message as FromWorker);
      any = true;
    }
    return any;
  }

  #route(m: FromWorker): void {
    if (m.t === "crash") this.#markGone(`crashed: ${m.message}`);
    else if (m.t === "closed") this.#closeAcknowledged = true;
    if (m.id === 0) return;
    const queue = this.#inbox.get(m.id);
    if (queue === undefined) return;
    queue.push(m);
    this.#watchers.get(m.id)?.();
  }

  #markGone(why: string): void {
    if (this.#gone !== undefined) return;
    this.#gone = why;
    if (this.#closed) return;
    for (const watcher of [...this.#watchers.values()]) watcher();
  }
}

function checked<Req, Res>(path: string, serializers: MethodSerializers<Req, Res> | undefined): [Serialize<Req>, Deserialize<Res>] {
  if (!path.startsWith("/")) throw new TypeError(`A method path starts with "/": got ${path}`);
  return [
    serializers?.requestSerializer ?? ((r: Req) => r as unknown as Uint8Array),
    serializers?.responseDeserializer ?? ((b: Uint8Array) => b as unknown as Res),
  ];
}

function deadlineOf(options: BlockingCallOptions | undefined, defaultTimeoutMs: number | undefined): number | undefined {
  const timeoutMs = options?.timeoutMs ?? (options?.deadline === undefined ? defaultTimeoutMs : undefined);
  const fromTimeout = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const d = options?.deadline;
  const absolute = d === undefined ? undefined : typeof d === "number" ? d : d.getTime();
  if (fromTimeout === undefined) return absolute;
  return absolute === undefined ? fromTimeout : Math.min(fromTimeout, absolute);
}

function unexpected(m: FromWorker): Error {
  return new InternalError(`The blocking client's worker sent ${m.t} where it was not expected`);
}
