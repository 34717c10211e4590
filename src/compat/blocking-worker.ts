// The blocking client's worker thread: runs the async core (one Channel) for a calling
// thread that waits on Atomics. It never parses messages (the calling thread serializes
// and deserializes), so it serves any service. Started by BlockingChannel.
import { workerData, type MessagePort } from "node:worker_threads";
import {
  ChannelCredentials,
  EOF,
  insecureChannel,
  secureChannel,
  type CallOptions,
  type Channel,
  type ChannelConfig,
  type StreamStreamCall,
  type StreamUnaryCall,
  type UnaryStreamCall,
  type UnaryUnaryCall,
} from "../index.js";
import {
  GONE,
  HEARTBEAT,
  HEARTBEAT_MS,
  ownCopy,
  STATE,
  toPairs,
  toWireError,
  WAKE,
  type FromWorker,
  type ToWorker,
  type WireCallOptions,
  type WireOutcome,
} from "./blocking-protocol.js";

/** What BlockingChannel hands the worker. */
export interface BlockingWorkerData {
  port: MessagePort;
  shared: SharedArrayBuffer;
  target: string;
  /** TLS options of the channel credentials; absent for a plaintext channel. */
  tls?: ChannelCredentials["tls"];
  config: Pick<ChannelConfig, "options" | "compression">;
  /** A module whose default export is a `ClientInterceptor[]` for the worker's channel. */
  interceptorsModule?: string;
}

type Bytes = Uint8Array;
type AnyCall = UnaryUnaryCall<Bytes, Bytes> | UnaryStreamCall<Bytes, Bytes> | StreamUnaryCall<Bytes, Bytes> | StreamStreamCall<Bytes, Bytes>;

const data = workerData as BlockingWorkerData;
const port = data.port;
const view = new Int32Array(data.shared);

function send(message: FromWorker): void {
  // Every `bytes` sent is an ownCopy(), with a buffer of its own to transfer.
  const bytes = "bytes" in message ? (message.bytes as Uint8Array<ArrayBuffer>) : undefined;
  port.postMessage(message, bytes ? [bytes.buffer] : undefined);
  Atomics.add(view, WAKE, 1);
  Atomics.notify(view, WAKE);
}

function gone(): void {
  Atomics.store(view, STATE, GONE);
  Atomics.add(view, WAKE, 1);
  Atomics.notify(view, WAKE);
}

// A crash must reach a calling thread that is asleep in Atomics.wait: it cannot see the
// Worker's 'error' event until it wakes.
process.on("uncaughtException", (err) => {
  try {
    send({ t: "crash", id: 0, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  } finally {
    gone();
    process.exit(1);
  }
});
process.on("exit", gone);
// The calling thread checks this while it waits, to tell a hung or killed worker from a slow call.
// 0 means "still starting" to the calling thread, which then waits longer.
Atomics.add(view, HEARTBEAT, 1);
setInterval(() => Atomics.add(view, HEARTBEAT, 1), HEARTBEAT_MS).unref();

let interceptors: ChannelConfig["interceptors"];
if (data.interceptorsModule !== undefined) {
  try {
    interceptors = ((await import(data.interceptorsModule)) as { default: ChannelConfig["interceptors"] }).default;
  } catch (err) {
    send({ t: "crash", id: 0, message: `Cannot load the interceptors module ${data.interceptorsModule}: ${String(err)}` });
    gone();
    process.exit(1);
  }
}
const config: ChannelConfig = { ...data.config, interceptors };
let made: Channel | undefined;
try {
  made = data.tls ? secureChannel(data.target, new ChannelCredentials(data.tls), config) : insecureChannel(data.target, config);
} catch (err) {
  send({ t: "crash", id: 0, message: `could not make its channel: ${err instanceof Error ? err.message : String(err)}` });
  gone();
  process.exit(1);
}
const channel = made;
const calls = new Map<number, AnyCall>();

async function outcomeOf(call: AnyCall): Promise<WireOutcome> {
  const [code, details, initialMetadata, trailingMetadata] = await Promise.all([call.code(), call.details(), call.initialMetadata(), call.trailingMetadata()]);
  return { code, details, initialMetadata: toPairs(initialMetadata), trailingMetadata: toPairs(trailingMetadata) };
}

function callOptions(o: WireCallOptions): CallOptions {
  return { deadline: o.deadline, metadata: o.metadata, waitForReady: o.waitForReady, compression: o.compression };
}

// Once per call: a call that failed may also have writes rejecting.
function fail(id: number, err: unknown): void {
  if (!calls.delete(id)) return;
  send({ t: "error", id, error: toWireError(err) });
}

function start(m: Extract<ToWorker, { t: "start" }>): void {
  const options = callOptions(m.options);
  let call: AnyCall;
  try {
    switch (m.kind) {
      case "unary":
        call = channel.unaryUnary(m.path)(m.request!, options);
        break;
      case "server_streaming":
        call = channel.unaryStream(m.path)(m.request!, options);
        break;
      case "client_streaming":
        call = channel.streamUnary(m.path)(undefined, options);
        break;
      case "bidi_streaming":
        call = channel.streamStream(m.path)(undefined, options);
        break;
    }
  } catch (err) {
    send({ t: "error", id: m.id, error: toWireError(err) });
    return;
  }
  calls.set(m.id, call);
  if (m.kind === "unary" || m.kind === "client_streaming") {
    (call as UnaryUnaryCall<Bytes, Bytes>).then(
      async (bytes) => {
        const outcome = m.outcome ? await outcomeOf(call) : undefined;
        calls.delete(m.id);
        send({ t: "response", id: m.id, bytes: ownCopy(bytes), outcome });
      },
      (err: unknown) => fail(m.id, err),
    );
  }
}

function next(id: number, call: UnaryStreamCall<Bytes, Bytes>): void {
  call.read().then(
    async (message) => {
      if (message !== EOF) {
        send({ t: "message", id, bytes: ownCopy(message) });
        return;
      }
      const outcome = await outcomeOf(call);
      calls.delete(id);
      send({ t: "eof", id, outcome });
    },
    (err: unknown) => fail(id, err),
  );
}

function onMessage(m: ToWorker): void {
  if (m.t === "start") return start(m);
  if (m.t === "close") {
    void channel.close().finally(() => {
      send({ t: "closed", id: 0 });
      port.close();
    });
    return;
  }
  if (m.t === "ready") {
    channel.channelReady().then(
      () => send({ t: "ready", id: m.id }),
      (err: unknown) => send({ t: "error", id: m.id, error: toWireError(err) }),
    );
    return;
  }
  const call = calls.get(m.id);
  if (call === undefined) return; // ended, its end already sent
  switch (m.t) {
    case "write":
      (call as StreamUnaryCall<Bytes, Bytes>).write(m.bytes).then(
        () => send({ t: "ack", id: m.id }),
        (err: unknown) => fail(m.id, err),
      );
      return;
    case "end":
      void (call as StreamUnaryCall<Bytes, Bytes>).doneWriting();
      return;
    case "next":
      return next(m.id, call as UnaryStreamCall<Bytes, Bytes>);
    case "headers":
      void call.initialMetadata().then((md) => send({ t: "headers", id: m.id, metadata: toPairs(md) }));
      return;
    case "status":
      void outcomeOf(call).then((outcome) => send({ t: "status", id: m.id, outcome }));
      return;
    case "cancel":
      call.cancel(m.details);
      calls.delete(m.id);
      return;
  }
}

port.on("message", onMessage);
