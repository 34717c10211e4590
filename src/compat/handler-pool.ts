import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { DescService } from "@bufbuild/protobuf";
import { InternalError, memberName, Metadata, RpcError, StatusCode, type MethodKind, type ServiceImplementation, type ServicerContext } from "../index.js";
import { CANCEL_CODE, CANCELLED, SLOTS, WAKE, type FromThread, type TaskStart, type TaskStatus, type ToThread } from "./handler-pool-protocol.js";

/** Options of a `HandlerPool`. */
export interface HandlerPoolOptions {
  /** Threads running handlers, each one call at a time (gRPC Python's `max_workers`); the machine's parallelism by default. */
  threads?: number;
}

/**
 * Worker threads that run CPU-bound handlers, so that they do not stall the server's
 * event loop for its other calls (the role of gRPC Python's
 * `futures.ThreadPoolExecutor` in `grpc.server()`). Handlers live in a module of their
 * own, which each thread imports: plain functions for unary and client-streaming
 * methods, (synchronous) generators for streaming responses, named as a servicer's
 * handlers are. A thread runs one call at a time; more calls wait in order, and the
 * server's `maximumConcurrentRpcs` bounds how many there are. Requests, responses and
 * metadata cross threads by structured clone (protobuf-es messages do).
 *
 * The handler's context has what a server context has; cancellation and the deadline
 * reach a handler that is busy computing through `context.isActive()` and
 * `context.signal.aborted`, which read shared memory.
 */
export class HandlerPool {
  readonly threads: number;
  readonly #idle: PoolThread[] = [];
  readonly #all = new Set<PoolThread>();
  readonly #queue: Task[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: HandlerPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`A handler pool needs at least one thread: got ${threads}`);
    this.threads = threads;
  }

  /**
   * A servicer for `service` whose handlers are the exports of `module` (a path or URL),
   * named by their camelCase member names (`getFeature`) or the proto names
   * (`GetFeature`). Pass it to `server.addService(service, ...)`.
   */
  servicer<S extends DescService>(service: S, module: string | URL): ServiceImplementation<S> {
    const servicer: Record<string, unknown> = {};
    for (const method of service.methods) {
      const name = memberName(method);
      Object.defineProperty(servicer, name, {
        value: this.behavior(module, [name, method.name], method.methodKind),
        enumerable: true,
      });
    }
    return servicer as ServiceImplementation<S>;
  }

  /**
   * The behavior of one method run on the pool: the export `name` of `module`, for the
   * `*RpcMethodHandler` factories (`unaryUnaryRpcMethodHandler(pool.behavior(url, "hash", "unary"))`).
   */
  behavior(module: string | URL, name: string | string[], kind: MethodKind): (input: never, context: ServicerContext) => unknown {
    const href = moduleHref(module);
    const names = typeof name === "string" ? [name] : name;
    if (kind === "unary" || kind === "client_streaming") {
      return (input: unknown, context: ServicerContext) => this.#start(href, names, kind, input, context).response();
    }
    return (input: unknown, context: ServicerContext) => this.#start(href, names, kind, input, context).responses();
  }

  /** Ends every thread; calls still waiting fail with UNAVAILABLE, running ones with INTERNAL. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.fail(new RpcError(StatusCode.UNAVAILABLE, "The handler pool was closed"));
    await Promise.all([...this.#all].map((t) => t.terminate()));
  }

  #start(module: string, names: string[], kind: MethodKind, input: unknown, context: ServicerContext): Task {
    const streamingRequest = kind === "client_streaming" || kind === "bidi_streaming";
    const start: TaskStart = {
      t: "task",
      id: this.#nextId++,
      module,
      names,
      kind,
      request: streamingRequest ? undefined : input,
      metadata: [...context.invocationMetadata()],
      deadline: context.deadline,
      method: context.method(),
      peer: context.peer(),
      auth: Object.fromEntries(Object.entries(context.authContext()).map(([k, v]) => [k, [...v]])),
      peerIdentities: context.peerIdentities(),
      peerIdentityKey: context.peerIdentityKey(),
    };
    const task = new Task(start, context, streamingRequest ? (input as AsyncIterable<unknown>) : undefined, () => this.#dequeue(task));
    if (this.#closed) task.fail(new RpcError(StatusCode.UNAVAILABLE, "The handler pool was closed"));
    else this.#schedule(task);
    return task;
  }

  #schedule(task: Task): void {
    const thread = this.#idle.pop() ?? (this.#all.size < this.threads ? this.#spawn() : undefined);
    if (thread === undefined) this.#queue.push(task);
    else thread.run(task);
  }

  #dequeue(task: Task): void {
    const i = this.#queue.indexOf(task);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #spawn(): PoolThread {
    const thread = new PoolThread(
      () => {
        const next = this.#queue.shift();
        if (next !== undefined) thread.run(next);
        else this.#idle.push(thread);
      },
      () => {
        this.#all.delete(thread);
        const i = this.#idle.indexOf(thread);
        if (i >= 0) this.#idle.splice(i, 1);
        // A thread that died is replaced for the calls that wait.
        if (!this.#closed && this.#queue.length > 0) this.#schedule(this.#queue.shift()!);
      },
    );
    this.#all.add(thread);
    return thread;
  }
}

function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : pathToFileURL(module).href;
}

/** One worker thread of the pool. */
class PoolThread {
  readonly #worker: Worker;
  readonly #view: Int32Array;
  #task: Task | undefined;
  #exited = false;

  constructor(
    private readonly onFree: () => void,
    private readonly onExit: () => void,
  ) {
    const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.#view = new Int32Array(shared);
    this.#worker = new Worker(new URL("./handler-pool-worker.js", import.meta.url), { workerData: { shared } });
    this.#worker.unref();
    this.#worker.on("message", (m: FromThread) => {
      if (this.#task !== undefined && m.id === this.#task.id) this.#task.onMessage(m);
    });
    this.#worker.on("error", (err) => this.#exit(`failed: ${err.message}`));
    this.#worker.on("exit", (code) => this.#exit(`exited with code ${code}`));
  }

  run(task: Task): void {
    this.#task = task;
    task.attach(this);
    this.send(task.start);
  }

  send(message: ToThread): void {
    if (this.#exited) return;
    this.#worker.postMessage(message);
    Atomics.add(this.#view, WAKE, 1);
    Atomics.notify(this.#view, WAKE);
  }

  /** Tells a handler that is computing that its call is over, then the thread's event loop too. */
  cancel(id: number, code: StatusCode): void {
    Atomics.store(this.#view, CANCEL_CODE, code);
    Atomics.store(this.#view, CANCELLED, id);
    this.send({ t: "cancel", id });
  }

  /** The task has ended on the thread: it takes the next one. */
  release(task: Task): void {
    if (this.#task !== task) return;
    this.#task = undefined;
    if (!this.#exited) this.onFree();
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  #exit(why: string): void {
    if (this.#exited) return;
    this.#exited = true;
    const task = this.#task;
    this.#task = undefined;
    task?.fail(new RpcError(StatusCode.INTERNAL, `The handler pool thread running the call ${why}`));
    this.onExit();
  }
}

type Pending = { resolve: (m: FromThread) => void; reject: (err: unknown) => void };

/** One call run on the pool, as the server's side sees it. */
class Task {
  readonly id: number;
  #thread: PoolThread | undefined;
  #messages: FromThread[] = [];
  #waiter: Pending | undefined;
  /** The task's failure, for a reader that comes after it. */
  #pendingError: unknown;
  #ended = false;
  #requests: AsyncIterator<unknown> | undefined;
  #pulling = false;

  constructor(
    readonly start: TaskStart,
    private readonly context: ServicerContext,
    requests: AsyncIterable<unknown> | undefined,
    private readonly dequeue: () => void,
  ) {
    this.id = start.id;
    this.#requests = requests?.[Symbol.asyncIterator]();
    if (context.signal.aborted) queueMicrotask(() => this.#cancel());
    else context.signal.addEventListener("abort", () => this.#cancel(), { once: true });
  }

  attach(thread: PoolThread): void {
    this.#thread = thread;
  }

  /** The response of a unary-response call, with the status the handler set applied. */
  async response(): Promise<unknown> {
    const m = await this.#next();
    if (m.t !== "done") throw new InternalError(`Unexpected ${m.t} from a handler pool thread`);
    return m.value;
  }

  /** The responses of a streaming call; the handler may send a few ahead, then waits for the server. */
  async *responses(): AsyncGenerator<unknown> {
    try {
      for (;;) {
        const m = await this.#next();
        if (m.t === "done") return;
        if (m.t !== "message") throw new InternalError(`Unexpected ${m.t} from a handler pool thread`);
        yield m.value;
        this.#thread?.send({ t: "credit", id: this.id });
      }
    } finally {
      // The server stopped taking responses (the call ended): the handler stops too.
      if (!this.#ended) this.#cancel();
    }
  }

  onMessage(m: FromThread): void {
    switch (m.t) {
      case "headers":
        this.context.sendInitialMetadata(new Metadata(m.metadata)).catch(() => {});
        return;
      case "pull":
        void this.#forwardRequest();
        return;
      case "done":
        this.#applyStatus(m.status);
        this.#end();
        break;
      case "failed":
        this.#end();
        if (m.rpc) {
          this.#deliverError(
            new RpcError(m.status.code ?? StatusCode.UNKNOWN, m.status.details ?? "", { trailingMetadata: new Metadata(m.status.trailingMetadata) }),
          );
        } else {
          this.#applyStatus(m.status);
          // Not an RpcError: the server logs it and answers UNKNOWN without the details.
          this.#deliverError(new Error(`A pooled handler of ${this.start.method} threw: ${m.message}`));
        }
        return;
    }
    this.#deliver(m);
  }

  fail(error: RpcError): void {
    if (this.#ended) return;
    this.#end();
    this.#deliverError(error);
  }

  #deliver(m: FromThread): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter.resolve(m);
    else this.#messages.push(m);
  }

  #deliverError(err: unknown): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter.reject(err);
    else this.#pendingError = err;
  }

  #next(): Promise<FromThread> {
    const m = this.#messages.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.#pendingError !== undefined) return Promise.reject(this.#pendingError);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  #applyStatus(status: TaskStatus): void {
    if (status.trailingMetadata !== undefined) this.context.setTrailingMetadata(new Metadata(status.trailingMetadata));
    if (status.code !== undefined) this.context.setCode(status.code);
    if (status.details !== undefined) this.context.setDetails(status.details);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#thread?.release(this);
    void this.#requests?.return?.();
  }

  async #forwardRequest(): Promise<void> {
    if (this.#pulling || this.#requests === undefined) return;
    this.#pulling = true;
    try {
      const r = await this.#requests.next();
      if (this.#ended) return;
      this.#thread?.send(r.done ? { t: "requests-end", id: this.id } : { t: "request", id: this.id, value: r.value });
    } catch (err) {
      this.#thread?.send({ t: "requests-end", id: this.id, error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.#pulling = false;
    }
  }

  #cancel(): void {
    if (this.#ended) return;
    const reason = RpcError.from(this.context.signal.reason, StatusCode.CANCELLED);
    if (this.#thread === undefined) {
      // Still waiting for a thread: it never runs.
      this.dequeue();
      this.fail(reason);
      return;
    }
    this.#thread.cancel(this.id, reason.code);
  }
}
