// Demo scaffolding: the route guide server on a thread of its own, so that the script
// has something to call. (A blocked thread cannot serve: the server must not share the
// script's thread.) Real scripts call a server that runs elsewhere.
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { serve } from "../route-guide/server.js";

/** Starts the route guide server on a worker thread; resolves to its port. The thread does not keep the process alive. */
export async function startDemoServer(): Promise<number> {
  const worker = new Worker(new URL(import.meta.url));
  worker.unref();
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (port: number) => resolve(port));
  });
}

if (!isMainThread && parentPort) {
  const { port } = await serve();
  parentPort.postMessage(port);
}
