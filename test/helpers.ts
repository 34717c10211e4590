// Shared test fixtures: a real server on loopback port 0, typed echo handlers, and
// the leak check every suite runs at its end.
import * as assert from "uvu/assert";
import { createServer, type Server, type ServerConfig } from "../src/index.js";
import { RpcError, StatusCode } from "../src/index.js";

export interface Started {
  server: Server;
  port: number;
  target: string;
}

/** Starts a server on 127.0.0.1:0 after `setup` registers its handlers. */
export async function startServer(setup: (server: Server) => void, config?: ServerConfig, host = "127.0.0.1"): Promise<Started> {
  const server = createServer(config);
  setup(server);
  const port = await server.addInsecurePort(`${host.includes(":") ? `[${host}]` : host}:0`);
  await server.start();
  return { server, port, target: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Waits (bounded) until `predicate` holds. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) assert.unreachable(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Asserts that `promise` rejects with an RpcError of `code`; returns it. */
export async function expectStatus(promise: PromiseLike<unknown>, code: StatusCode): Promise<RpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RpcError, `expected an RpcError, got ${String(err)}`);
    assert.is(StatusCode[err.code], StatusCode[code], `status (details: ${err.details})`);
    return err;
  }
  assert.unreachable(`expected ${StatusCode[code]}, but the call succeeded`);
  throw new Error("unreachable");
}

const NETWORK_RESOURCES = new Set(["TCPSocketWrap", "TCPServerWrap", "PipeWrap", "PipeServerWrap", "TLSWrap", "Http2Session"]);
const openNetwork = () => process.getActiveResourcesInfo().filter((r) => NETWORK_RESOURCES.has(r));
// stdout/stderr may themselves be pipes or sockets; only what tests add counts.
const baseline = openNetwork().length;

/** Fails if a socket or listening server is still open (waits briefly for closes in flight). */
export async function assertNoLeaks(): Promise<void> {
  const until = Date.now() + 2000;
  while (openNetwork().length > baseline && Date.now() < until) await sleep(10);
  const open = openNetwork();
  assert.ok(open.length <= baseline, `sockets or servers left open: ${open.join(", ")}`);
}

/** Bytes of `n` filled with a pattern, to check payload integrity. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Asserts that `promise` rejects, optionally with a message matching `pattern`. */
export async function rejects(promise: PromiseLike<unknown>, pattern?: RegExp): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    if (pattern) assert.match(err instanceof Error ? err.message : String(err), pattern);
    return err;
  }
  assert.unreachable("expected a rejection");
  return undefined;
}

/** One gRPC length-prefixed message, for raw HTTP/2 peers in tests. */
export function grpcFrame(payload: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}
