import type { MessageInitShape } from "@bufbuild/protobuf";
import { RpcError, StatusCode, type Server, type ServicerContext } from "async-grpc";
import type { HealthServicer as HealthServicerInterface } from "./gen/grpc/health/v1/health_grpc.js";
import { addHealthServicerToServer } from "./gen/grpc/health/v1/health_grpc.js";
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponseSchema,
  type HealthListResponseSchema,
} from "./gen/grpc/health/v1/health_pb.js";

/** The service name that stands for the whole server (gRPC Python `OVERALL_HEALTH`). */
export const OVERALL_HEALTH = "";

/** `List` answers RESOURCE_EXHAUSTED beyond this many services, as grpc-go and grpc-js do. */
export const LIST_LIMIT = 100;

/** Options of `HealthServicer.addToServer()`. */
export interface AddHealthOptions {
  /**
   * Call `enterGracefulShutdown()` as soon as `server.stop()` is called, so that
   * watchers learn NOT_SERVING while the connections drain. Default true.
   */
  enterGracefulShutdownOnStop?: boolean;
}

/** Wakes one Watch call when its service's status may have changed. */
interface Watcher {
  wake(): void;
}

/**
 * The `grpc.health.v1.Health` service (gRPC Python `grpc_health.v1.health.HealthServicer`):
 * `Check`, `Watch` and `List` over a table of statuses that the application keeps
 * with `set()` and `clear()`. The whole server (`""`) starts SERVING, as in gRPC Python.
 */
export class HealthServicer implements HealthServicerInterface {
  readonly #statuses = new Map<string, ServingStatus>([[OVERALL_HEALTH, ServingStatus.SERVING]]);
  readonly #watchers = new Map<string, Set<Watcher>>();
  #shuttingDown = false;

  /**
   * Sets the status of `service` and tells its watchers (gRPC Python `set()`). Ignored
   * after `enterGracefulShutdown()`. `SERVICE_UNKNOWN` is what Watch reports for an
   * unknown service: use `clear()` to forget a service instead.
   */
  set(service: string, status: ServingStatus): void {
    if (this.#shuttingDown) return;
    if (status === ServingStatus.SERVICE_UNKNOWN) throw new RangeError("SERVICE_UNKNOWN is for Watch only: use clear() to forget a service");
    this.#statuses.set(service, status);
    this.#notify(service);
  }

  /** Forgets `service`: Check answers NOT_FOUND for it and its watchers see SERVICE_UNKNOWN. Ignored after `enterGracefulShutdown()`. */
  clear(service: string): void {
    if (this.#shuttingDown) return;
    if (this.#statuses.delete(service)) this.#notify(service);
  }

  /**
   * Sets every service NOT_SERVING and ignores later `set()` and `clear()` calls
   * (gRPC Python `enter_graceful_shutdown()`), so that clients move away before the
   * server stops.
   */
  enterGracefulShutdown(): void {
    if (this.#shuttingDown) return;
    for (const service of this.#statuses.keys()) {
      this.#statuses.set(service, ServingStatus.NOT_SERVING);
      this.#notify(service);
    }
    this.#shuttingDown = true;
  }

  /** The status of `service`, or undefined if it is not known. */
  status(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** How many Watch calls are open (for monitoring; each holds one small record). */
  get watchCount(): number {
    let n = 0;
    for (const set of this.#watchers.values()) n += set.size;
    return n;
  }

  /**
   * Serves this servicer on `server` (as `addHealthServicerToServer()`), and by default
   * turns NOT_SERVING as soon as `server.stop()` is called.
   */
  addToServer(server: Server, options: AddHealthOptions = {}): void {
    addHealthServicerToServer(this, server);
    if (options.enterGracefulShutdownOnStop ?? true) server.addStopCallback(() => this.enterGracefulShutdown());
  }

  // ---- the RPCs --------------------------------------------------------------------

  async check(request: HealthCheckRequest): Promise<MessageInitShape<typeof HealthCheckResponseSchema>> {
    const status = this.#statuses.get(request.service);
    if (status === undefined) throw new RpcError(StatusCode.NOT_FOUND, `Health status unknown for service ${request.service}`);
    return { status };
  }

  // The current status at once, then each change. Statuses that change faster than the
  // client reads collapse into the latest one, so a slow watcher costs one record.
  async *watch(request: HealthCheckRequest, context: ServicerContext): AsyncGenerator<MessageInitShape<typeof HealthCheckResponseSchema>> {
    const service = request.service;
    let pending = true;
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      wake() {
        pending = true;
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    let set = this.#watchers.get(service);
    if (set === undefined) this.#watchers.set(service, (set = new Set()));
    set.add(watcher);
    context.signal.addEventListener("abort", onAbort);
    let last: ServingStatus | undefined;
    try {
      while (!context.signal.aborted) {
        if (!pending) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        pending = false;
        const status = this.#statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status === last) continue;
        last = status;
        yield { status };
      }
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      set.delete(watcher);
      if (set.size === 0 && this.#watchers.get(service) === set) this.#watchers.delete(service);
    }
  }

  async list(): Promise<MessageInitShape<typeof HealthListResponseSchema>> {
    if (this.#statuses.size > LIST_LIMIT) throw new RpcError(StatusCode.RESOURCE_EXHAUSTED, `Too many services to list (more than ${LIST_LIMIT})`);
    const statuses: Record<string, { status: ServingStatus }> = {};
    for (const [service, status] of this.#statuses) statuses[service] = { status };
    return { statuses };
  }

  #notify(service: string): void {
    const set = this.#watchers.get(service);
    if (set === undefined) return;
    for (const watcher of set) watcher.wake();
  }
}
