// A HandlerPool thread: runs one handler at a time, imported from the module the pool
// names. While a synchronous handler computes, the thread's event loop does not turn:
// it reads what it needs (requests, room to send, cancellation) from its port with
// receiveMessageOnPort, sleeping in Atomics.wait in between.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { EOF, Metadata, RpcError, StatusCode } from "../index.js";
import { RESPONSE_WINDOW, WAKE, type FromThread, type TaskStart, type ToThread } from "./handler-pool-protocol.js";
import { PoolContext, type TaskHost } from "./pool-context.js";

const port = parentPort as MessagePort;
const view = new Int32Array((workerData as { shared: SharedArrayBuffer }).shared);
const modules = new Map<string, Promise<Record<string, unknown>>>();
const WAIT_SLICE_MS = 100;

interface Task {
  readonly start: TaskStart;
  readonly context: PoolContext;
  readonly inbox: ToThread[];
  credits: number;
}

let current: Task | undefined;

function send(message: FromThread): void {
  port.postMessage(message);
}

function route(m: ToThread): void {
  if (m.t === "task") {
    void run(m);
    return;
  }
  const task = current;
  if (task === undefined || m.id !== task.start.id) return; // for a task that has ended
  if (m.t === "cancel") task.context.cancelNow();
  else task.inbox.push(m);
}

/** Blocks until a message of `type` for `task` arrives; undefined once the call is no longer active. */
function waitFor(task: Task, accept: (m: ToThread) => boolean): ToThread | undefined {
  for (;;) {
    const i = task.inbox.findIndex(accept);
    if (i >= 0) return task.inbox.splice(i, 1)[0];
    if (!task.context.isActive()) return undefined;
    const seen = Atomics.load(view, WAKE);
    let any = false;
    for (let r = receiveMessageOnPort(port); r !== undefined; r = receiveMessageOnPort(port)) {
      route(r.message as ToThread);
      any = true;
    }
    if (!any) Atomics.wait(view, WAKE, seen, WAIT_SLICE_MS);
  }
}

function hostFor(task: Task): TaskHost {
  const id = task.start.id;
  return {
    sendHeaders: (metadata) => send({ t: "headers", id, metadata: [...metadata] }),
    sendResponse: (response) => {
      if (task.credits === 0) {
        if (waitFor(task, (m) => m.t === "credit") === undefined) throw cancelledError(task);
        task.credits++;
      }
      task.credits--;
      send({ t: "message", id, value: response });
    },
    nextRequest: () => {
      send({ t: "pull", id });
      const m = waitFor(task, (m) => m.t === "request" || m.t === "requests-end");
      if (m === undefined) throw cancelledError(task);
      if (m.t === "request") return m.value;
      if (m.t === "requests-end" && m.error !== undefined) throw new RpcError(StatusCode.CANCELLED, m.error);
      return EOF;
    },
  };
}

function cancelledError(task: Task): RpcError {
  return RpcError.from(task.context.signal.reason, StatusCode.CANCELLED);
}

/** The requests of a streaming-request call, for `for...of` (blocking) or `for await...of`. */
function requestsOf(host: TaskHost): Iterable<unknown> & AsyncIterable<unknown> {
  const next = (): IteratorResult<unknown> => {
    const value = host.nextRequest();
    return value === EOF ? { done: true, value: undefined } : { done: false, value };
  };
  return {
    [Symbol.iterator]: () => ({ next }),
    [Symbol.asyncIterator]: () => ({ next: async () => next() }),
  };
}

async function load(module: string): Promise<Record<string, unknown>> {
  let loading = modules.get(module);
  if (loading === undefined) {
    loading = import(module) as Promise<Record<string, unknown>>;
    modules.set(module, loading);
  }
  return loading;
}

async function run(start: TaskStart): Promise<void> {
  const task: Task = { start, context: undefined as never, inbox: [], credits: RESPONSE_WINDOW };
  const host = hostFor(task);
  (task as { context: PoolContext }).context = new PoolContext(start, view, host);
  current = task;
  const context = task.context;
  try {
    const mod = await load(start.module);
    const name = start.names.find((n) => typeof mod[n] === "function");
    if (name === undefined) {
      throw new RpcError(StatusCode.UNIMPLEMENTED, `Method not implemented: ${start.module} exports no ${start.names.join(" or ")}`);
    }
    const handler = mod[name] as (input: unknown, context: PoolContext) => unknown;
    const streamingRequest = start.kind === "client_streaming" || start.kind === "bidi_streaming";
    let result = handler.call(mod, streamingRequest ? requestsOf(host) : start.request, context);
    if (start.kind === "unary" || start.kind === "client_streaming") {
      if (result instanceof Promise) result = await result;
      send({ t: "done", id: start.id, value: result, status: context.status() });
      return;
    }
    if (result instanceof Promise) await result;
    else if (result !== undefined && result !== null) await drain(result, host, context);
    send({ t: "done", id: start.id, status: context.status() });
  } catch (err) {
    const rpc = err instanceof RpcError;
    const status = context.status();
    send({
      t: "failed",
      id: start.id,
      rpc,
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      status: rpc
        ? { code: err.code, details: err.details, trailingMetadata: [...new Metadata(status.trailingMetadata).merge(err.trailingMetadata)] }
        : status,
    });
  } finally {
    context.end();
    current = undefined;
  }
}

/** Sends what a streaming handler returned or yields; a synchronous generator never yields the thread. */
async function drain(result: unknown, host: TaskHost, context: PoolContext): Promise<void> {
  if (typeof (result as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const response of result as Iterable<unknown>) {
      if (!context.isActive()) break; // leaving the loop closes the generator (its finally blocks run)
      host.sendResponse(response);
    }
    return;
  }
  if (typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    for await (const response of result as AsyncIterable<unknown>) {
      if (!context.isActive()) break;
      host.sendResponse(response);
    }
    return;
  }
  throw new TypeError("A streaming method handler must return an (async) iterable or nothing");
}

port.on("message", route);
