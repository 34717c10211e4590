// Several named echo servers on loopback ports, for the load-balancing, resolver and
// proxy tests: each answers with its own name, counts what it served, and can be
// stopped and started again on the same port.
import { createServer, RpcError, StatusCode, type Server, type ServicerContext } from "../../src/index.js";
import { Echo, type EchoRequest } from "../gen/testing/echo_pb.js";
import { sleep } from "../helpers.js";

export class Backend {
  served = 0;
  /** The metadata of the last call, as the server saw it. */
  lastMetadata: Record<string, string> = {};
  /** Seconds left of the last call's deadline, as the server saw it (undefined: none). */
  lastTimeRemaining: number | undefined;
  /** Calls whose context.signal aborted (client cancellation or deadline). */
  aborted = 0;
  server: Server | undefined;

  private constructor(
    readonly name: string,
    public port: number,
    private readonly host: string,
  ) {}

  static async start(name: string, host = "127.0.0.1", port = 0): Promise<Backend> {
    const backend = new Backend(name, port, host);
    await backend.restart();
    return backend;
  }

  get address(): string {
    return this.host.includes(":") ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Starts (again) on the same port. */
  async restart(): Promise<void> {
    const server = createServer();
    server.addService(Echo, this.handlers());
    this.port = await server.addInsecurePort(`${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`);
    await server.start();
    this.server = server;
  }

  async stop(graceSeconds: number | null = null): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop(graceSeconds);
  }

  private note(context: ServicerContext): void {
    this.served++;
    this.lastTimeRemaining = context.timeRemaining();
    context.signal.addEventListener("abort", () => this.aborted++, { once: true });
    const md: Record<string, string> = {};
    for (const [key, value] of context.invocationMetadata()) md[key] = typeof value === "string" ? value : Array.from(value).join(",");
    this.lastMetadata = md;
  }

  private handlers() {
    const name = this.name;
    const note = (context: ServicerContext) => this.note(context);
    return {
      unary: async (request: EchoRequest, context: ServicerContext) => {
        this.note(context);
        if (request.delayMs) await sleep(request.delayMs, context.signal);
        if (request.message === "fail") throw new RpcError(StatusCode.FAILED_PRECONDITION, `refused by ${name}`);
        const echoed = context.invocationMetadata().get("x-echo");
        if (echoed !== undefined) {
          await context.sendInitialMetadata([["x-echo-initial", String(echoed)]]);
          context.setTrailingMetadata([["x-echo-trailing", String(echoed)]]);
        }
        return { message: name, payload: request.payload };
      },
      serverStream: async function* (request: EchoRequest, context: ServicerContext) {
        note(context);
        for (let i = 0; i < request.count; i++) {
          if (request.delayMs) await sleep(request.delayMs, context.signal);
          yield { message: name, index: i };
        }
        if (request.message === "fail") throw new RpcError(StatusCode.FAILED_PRECONDITION, `refused by ${name}`);
      },
      clientStream: async (requests: AsyncIterable<EchoRequest>, context: ServicerContext) => {
        this.note(context);
        const parts: string[] = [];
        for await (const r of requests) parts.push(r.message);
        return { message: `${name}:${parts.join(",")}` };
      },
      bidi: async function* (this: void, requests: AsyncIterable<EchoRequest>) {
        for await (const r of requests) yield { message: `${name}:${r.message}` };
      },
    };
  }
}

/** Calls `n` unary calls one after another; counts the answers per backend name. */
export async function spread(call: () => PromiseLike<{ message: string }>, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const { message } = await call();
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return counts;
}
