import type { ClientConnection, ConnectivityState, SocketAddress } from "../transport/index.js";
import { HealthChecker, type HealthCheckTarget } from "./health-watch.js";
import type { PickResult } from "./load-balancer.js";
import { addressKey } from "./target.js";

/**
 * One address of a channel and its connection (gRPC's subchannel), as load-balancing
 * policies see it: a connectivity state of its own, connection backoff of its own,
 * and `connect()`. Subchannels to the same address are shared inside a channel, so
 * a policy switch or an address list that keeps an address keeps its connection and
 * the calls on it. A policy `ref()`s nothing itself: `createSubchannel()` hands out a
 * reference, which the policy gives back with `unref()` when it drops the address.
 */
export class Subchannel {
  readonly address: SocketAddress;
  /** `host:port` (IPv6 bracketed) or `unix:path`. */
  readonly key: string;
  /** @internal The pick that sends a call here; made once, so that picking allocates nothing. */
  readonly picked: PickResult;
  private refs = 0;
  /** Made for the first health watcher, dropped with the last: costs nothing to policies that do not opt in. */
  private health: HealthChecker | undefined;
  private healthWatchers = 0;
  private healthServiceName: string | undefined;

  /** @internal Made by the channel. */
  constructor(
    /** @internal */ readonly connection: ClientConnection,
    address: SocketAddress,
    private readonly released: (subchannel: Subchannel) => void,
    private readonly healthTarget: HealthCheckTarget,
  ) {
    this.address = address;
    this.key = addressKey(address);
    this.picked = { type: "complete", subchannel: this };
  }

  get state(): ConnectivityState {
    return this.connection.state;
  }

  /** Why the last connection attempt failed, if it did. */
  get lastError(): Error | undefined {
    return this.connection.lastError;
  }

  /** Starts connecting if IDLE (a subchannel in backoff goes IDLE when the backoff ends). */
  connect(): void {
    this.connection.connect();
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onStateChange(listener: (state: ConnectivityState, subchannel: Subchannel) => void): () => void {
    return this.connection.onStateChange((state) => listener(state, this));
  }

  /**
   * The state as a policy that honours client-side health checking sees it (gRFC A17;
   * `round_robin` does, `pick_first` does not): with the service config's
   * `healthCheckConfig`, a connected subchannel is READY only while its server reports
   * the service SERVING on `grpc.health.v1.Health/Watch`. Without it, `state`.
   * Meaningful while the policy watches `onHealthStateChange()`.
   */
  get healthState(): ConnectivityState {
    return this.health?.state ?? this.connection.state;
  }

  /** Why `healthState` is TRANSIENT_FAILURE while the connection is up (the server is not serving). */
  get healthProblem(): string | undefined {
    return this.health?.problem;
  }

  /**
   * Like `onStateChange()`, for `healthState`: the first watcher starts the Watch stream
   * (while the connection is READY and the channel's service config asks for health
   * checks), the last one to stop ends it.
   */
  onHealthStateChange(listener: (state: ConnectivityState, subchannel: Subchannel) => void): () => void {
    const health = (this.health ??= new HealthChecker(this.connection, this.healthTarget, this.healthServiceName));
    this.healthWatchers++;
    const off = health.onChange((state) => listener(state, this));
    let watching = true;
    return () => {
      if (!watching) return;
      watching = false;
      off();
      if (--this.healthWatchers === 0) {
        health.destroy();
        this.health = undefined;
      }
    };
  }

  /** @internal The channel's service config changed its `healthCheckConfig.serviceName` (undefined: no health checks). */
  setHealthCheckService(serviceName: string | undefined): void {
    this.healthServiceName = serviceName;
    this.health?.setServiceName(serviceName);
  }

  /** Ends the current backoff: a subchannel waiting to reconnect goes IDLE at once. */
  resetBackoff(): void {
    this.connection.resetBackoff();
  }

  ref(): void {
    this.refs++;
  }

  /** Gives back a reference; the last one lets the connection go once its calls end. */
  unref(): void {
    if (--this.refs === 0) this.released(this);
  }

  toString(): string {
    return this.key;
  }
}
