// An Echo server on its own thread, for the blocking client's tests: while the test's
// thread is blocked in a call, a server on that thread could not answer.
// Requests steer it: `message` "status:<code>" fails with that code, `delay_ms` waits
// first, `count` is the number of server-streaming responses, "fail-after:<n>" fails a
// stream after n responses. Every cancellation a handler sees is posted to the parent.
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createServer, RpcError, sslServerCredentials, StatusCode, type ServicerContext } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";

export interface ServerThread {
  target: string;
  /** What the handlers saw: "cancelled:<method>" for each call cancelled under them. */
  events: string[];
  stop(): Promise<void>;
}

/** The conformance suite's test certificates (server1 is valid for localhost), read from the repository. */
export const testCert = (name: string): Buffer => readFileSync(new URL(`../../../conformance/certs/${name}`, import.meta.url));

/** Starts the server thread (TLS with the test certificates if asked); resolves once it listens. */
export async function startServerThread(options: { tls?: boolean } = {}): Promise<ServerThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { tls: options.tls === true } });
  const events: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (m: { port?: number; event?: string }) => {
      if (m.port !== undefined) resolve(m.port);
      if (m.event !== undefined) events.push(m.event);
    });
  });
  return {
    target: `127.0.0.1:${port}`,
    events,
    async stop() {
      worker.postMessage("stop");
      await new Promise((resolve) => worker.once("exit", resolve));
    },
  };
}

function watch(context: ServicerContext, method: string): void {
  context.signal.addEventListener("abort", () => parentPort!.postMessage({ event: `cancelled:${method}` }));
}

function failIf(message: string, context: ServicerContext): void {
  if (message.startsWith("status:")) {
    const code = Number(message.slice("status:".length));
    context.abort(code, `failed with ${StatusCode[code]} as asked`, { "x-why": "asked" });
  }
}

async function serve(): Promise<void> {
  const server = createServer();
  server.addService(Echo, {
    async unary(request, context) {
      watch(context, "unary");
      if (request.delayMs > 0) await sleep(request.delayMs, undefined, { signal: context.signal });
      failIf(request.message, context);
      await context.sendInitialMetadata({ "x-served-by": "server-thread" });
      const echoed = context.invocationMetadata().get("x-echo");
      if (echoed !== undefined) context.setTrailingMetadata({ "x-echo": echoed });
      return { message: `echo:${request.message}`, payload: request.payload };
    },
    async *serverStream(request, context) {
      watch(context, "serverStream");
      const failAfter = request.message.startsWith("fail-after:") ? Number(request.message.slice("fail-after:".length)) : -1;
      for (let i = 0; i < request.count; i++) {
        if (i === failAfter) throw new RpcError(StatusCode.DATA_LOSS, `failed after ${i} responses`);
        if (request.delayMs > 0) await sleep(request.delayMs, undefined, { signal: context.signal });
        yield { message: request.message, index: i };
      }
    },
    async clientStream(requests, context) {
      watch(context, "clientStream");
      const seen: string[] = [];
      for await (const r of requests) {
        failIf(r.message, context);
        seen.push(r.message);
      }
      return { message: seen.join(","), index: seen.length };
    },
    async *bidi(requests, context) {
      watch(context, "bidi");
      let i = 0;
      for await (const r of requests) {
        failIf(r.message, context);
        yield { message: r.message, index: i++ };
      }
    },
  });
  const port = (workerData as { tls: boolean }).tls
    ? await server.addSecurePort("127.0.0.1:0", sslServerCredentials([[testCert("server1.key"), testCert("server1.pem")]]))
    : await server.addInsecurePort("127.0.0.1:0");
  await server.start();
  parentPort!.on("message", (m) => {
    if (m === "stop") void server.stop(null).then(() => parentPort!.close());
  });
  parentPort!.postMessage({ port });
}

if (!isMainThread && parentPort) await serve();
