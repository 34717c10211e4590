import { ConnectivityState, type SocketAddress } from "../transport/index.js";
import { StatusCode } from "../wire/index.js";
import { failingPicker, QUEUE_PICKER, type ChannelControlHelper, type LoadBalancer, type PickResult, type Picker } from "./load-balancer.js";
import type { Subchannel } from "./subchannel.js";

/**
 * `round_robin`: a connection to every address, calls spread over the READY ones in
 * turn. A connection that drops is reconnected at once (after its backoff when it
 * failed); the policy is READY while any address is, and once in TRANSIENT_FAILURE
 * stays there until one connects again (gRFC A62's sticky failure). It honours
 * client-side health checking (gRFC A17): it watches each subchannel's `healthState`,
 * so with `healthCheckConfig` an address whose server is not SERVING gets no calls.
 */
export class RoundRobin implements LoadBalancer {
  private subchannels: Subchannel[] = [];
  private readonly watches = new Map<Subchannel, () => void>();
  private state = ConnectivityState.IDLE;
  private readyKeys = "";

  constructor(private readonly helper: ChannelControlHelper) {}

  updateAddressList(addresses: readonly SocketAddress[]): void {
    const next: Subchannel[] = [];
    for (const address of addresses) {
      const subchannel = this.helper.createSubchannel(address);
      if (next.includes(subchannel)) subchannel.unref();
      else next.push(subchannel);
    }
    const previous = this.subchannels;
    this.subchannels = next;
    for (const s of next) {
      if (!this.watches.has(s)) this.watches.set(s, s.onHealthStateChange((state, sub) => this.onSubchannelState(sub, state)));
    }
    for (const s of previous) {
      if (!next.includes(s)) {
        this.watches.get(s)?.();
        this.watches.delete(s);
      }
      s.unref();
    }
    for (const s of next) if (s.healthState === ConnectivityState.IDLE) s.connect();
    this.readyKeys = "";
    this.aggregate();
  }

  exitIdle(): void {
    for (const s of this.subchannels) if (s.healthState === ConnectivityState.IDLE) s.connect();
  }

  resetBackoff(): void {
    for (const s of this.subchannels) s.resetBackoff();
  }

  destroy(): void {
    for (const unwatch of this.watches.values()) unwatch();
    this.watches.clear();
    const subchannels = this.subchannels;
    this.subchannels = [];
    for (const s of subchannels) s.unref();
  }

  private onSubchannelState(subchannel: Subchannel, state: ConnectivityState): void {
    if (state === ConnectivityState.IDLE) {
      // Dropped (or out of backoff): reconnect, and let the resolver check the addresses.
      this.helper.requestReresolution();
      subchannel.connect();
    } else if (state === ConnectivityState.TRANSIENT_FAILURE) {
      this.helper.requestReresolution();
    }
    this.aggregate();
  }

  private aggregate(): void {
    const ready = this.subchannels.filter((s) => s.healthState === ConnectivityState.READY);
    if (ready.length > 0) {
      // A state change elsewhere (one address connecting) does not reset the rotation.
      const keys = ready.map((s) => s.key).join(",");
      if (this.state === ConnectivityState.READY && keys === this.readyKeys) return;
      this.readyKeys = keys;
      this.report(ConnectivityState.READY, new RoundRobinPicker(ready));
      return;
    }
    this.readyKeys = "";
    const failing = this.subchannels.filter((s) => s.healthState === ConnectivityState.TRANSIENT_FAILURE);
    if (this.subchannels.length > 0 && (failing.length === this.subchannels.length || this.state === ConnectivityState.TRANSIENT_FAILURE)) {
      const last = failing[failing.length - 1];
      const why = last?.healthProblem ?? (last?.lastError ? `Failed to connect: ${last.lastError.message}` : "Failed to connect to any address");
      this.report(ConnectivityState.TRANSIENT_FAILURE, failingPicker(StatusCode.UNAVAILABLE, why));
      return;
    }
    if (this.state !== ConnectivityState.CONNECTING) this.report(ConnectivityState.CONNECTING, QUEUE_PICKER);
  }

  private report(state: ConnectivityState, picker: Picker): void {
    this.state = state;
    this.helper.updateState(state, picker);
  }
}

class RoundRobinPicker implements Picker {
  private next: number;

  constructor(private readonly ready: readonly Subchannel[]) {
    // A random start, so that many clients do not all begin with the first address.
    this.next = Math.floor(Math.random() * ready.length);
  }

  pick(): PickResult {
    const s = this.ready[this.next]!;
    this.next = (this.next + 1) % this.ready.length;
    return s.picked;
  }
}
