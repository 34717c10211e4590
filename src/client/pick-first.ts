import { isIP } from "node:net";
import { ConnectivityState, type SocketAddress } from "../transport/index.js";
import { StatusCode } from "../wire/index.js";
import { failingPicker, QUEUE, QUEUE_PICKER, type ChannelControlHelper, type LoadBalancer, type Picker } from "./load-balancer.js";
import type { Subchannel } from "./subchannel.js";

/** `pick_first`'s config: `{ "shuffleAddressList": true }` spreads clients over the addresses (gRFC A62). */
export function validatePickFirstConfig(config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const shuffle = config["shuffleAddressList"];
  if (shuffle !== undefined && typeof shuffle !== "boolean") throw new Error("shuffleAddressList must be a boolean");
  return config;
}

/**
 * gRPC's default policy (gRFC A62): tries the addresses in order until one connects
 * and sends every call there. If every address fails it reports TRANSIENT_FAILURE,
 * asks for re-resolution, and stays in TRANSIENT_FAILURE (keeps retrying each address
 * as its backoff ends) until one connects. When the chosen connection drops it goes
 * IDLE; the next call starts over from the first address.
 */
export class PickFirst implements LoadBalancer {
  private subchannels: Subchannel[] = [];
  private readonly watches = new Map<Subchannel, () => void>();
  private selected: Subchannel | undefined;
  /** The subchannel of the first pass being tried; past the end once every address failed. */
  private index = 0;
  private connecting = false;
  private stickyFailure = false;
  private state = ConnectivityState.IDLE;
  /** The pass runs over addresses the resolver just gave: failing them all is no reason to ask again at once. */
  private freshAddresses = false;

  constructor(private readonly helper: ChannelControlHelper) {}

  updateAddressList(addresses: readonly SocketAddress[], config: Readonly<Record<string, unknown>>): void {
    let list = [...addresses];
    if (config["shuffleAddressList"] === true) shuffle(list);
    list = interleaveFamilies(list);
    const next: Subchannel[] = [];
    for (const address of list) {
      const subchannel = this.helper.createSubchannel(address);
      if (next.includes(subchannel)) subchannel.unref();
      else next.push(subchannel);
    }
    const previous = this.subchannels;
    this.subchannels = next;
    for (const s of next) if (!this.watches.has(s)) this.watches.set(s, s.onStateChange((state, sub) => this.onSubchannelState(sub, state)));
    for (const s of previous) this.drop(s, next);
    // A connection that is still in the list keeps every call on it.
    const selected = this.selected;
    if (selected !== undefined && next.includes(selected) && selected.state === ConnectivityState.READY) return;
    this.selected = undefined;
    this.startPass(true);
  }

  exitIdle(): void {
    if (this.selected === undefined && !this.connecting) this.startPass(false);
  }

  resetBackoff(): void {
    for (const s of this.subchannels) s.resetBackoff();
  }

  destroy(): void {
    const subchannels = this.subchannels;
    this.subchannels = [];
    this.selected = undefined;
    for (const s of subchannels) this.drop(s, []);
  }

  private drop(subchannel: Subchannel, keep: readonly Subchannel[]): void {
    if (keep.includes(subchannel)) {
      subchannel.unref(); // the second reference, from this update
      return;
    }
    this.watches.get(subchannel)?.();
    this.watches.delete(subchannel);
    subchannel.unref();
  }

  /** The first pass over the addresses, in order. */
  private startPass(fresh: boolean): void {
    if (this.subchannels.length === 0) return;
    this.freshAddresses = fresh;
    this.connecting = true;
    this.index = 0;
    if (!this.stickyFailure) this.report(ConnectivityState.CONNECTING, QUEUE_PICKER);
    this.tryCurrent();
  }

  private tryCurrent(): void {
    while (this.index < this.subchannels.length) {
      const s = this.subchannels[this.index]!;
      switch (s.state) {
        case ConnectivityState.READY:
          this.select(s);
          return;
        case ConnectivityState.IDLE:
          s.connect();
          return;
        case ConnectivityState.CONNECTING:
          return;
        default:
          this.index++; // TRANSIENT_FAILURE: in backoff, try the next address
      }
    }
    this.allFailed();
  }

  private allFailed(): void {
    this.stickyFailure = true;
    const last = this.subchannels[this.subchannels.length - 1];
    const why = last?.lastError?.message;
    this.report(ConnectivityState.TRANSIENT_FAILURE, failingPicker(StatusCode.UNAVAILABLE, why ? `Failed to connect: ${why}` : "Failed to connect to any address"));
    if (!this.freshAddresses) this.helper.requestReresolution();
    // From now on each address is retried as its backoff ends (onSubchannelState).
    for (const s of this.subchannels) if (s.state === ConnectivityState.IDLE) s.connect();
  }

  private onSubchannelState(subchannel: Subchannel, state: ConnectivityState): void {
    if (!this.subchannels.includes(subchannel)) return;
    if (subchannel === this.selected) {
      if (state === ConnectivityState.READY) return;
      // The connection went away (GOAWAY, idle timeout, drop): idle until a call comes.
      this.selected = undefined;
      this.connecting = false;
      this.report(ConnectivityState.IDLE, new IdlePicker(this));
      this.helper.requestReresolution();
      return;
    }
    if (this.selected !== undefined || !this.connecting) return;
    if (state === ConnectivityState.READY) {
      this.select(subchannel);
      return;
    }
    if (this.index < this.subchannels.length) {
      if (subchannel === this.subchannels[this.index] && state === ConnectivityState.TRANSIENT_FAILURE) {
        this.index++;
        this.tryCurrent();
      }
      return;
    }
    // After the first pass: reconnect each address as it leaves backoff, report the failure.
    if (state === ConnectivityState.IDLE) subchannel.connect();
    else if (state === ConnectivityState.TRANSIENT_FAILURE) {
      const why = subchannel.lastError?.message;
      this.report(ConnectivityState.TRANSIENT_FAILURE, failingPicker(StatusCode.UNAVAILABLE, why ? `Failed to connect: ${why}` : "Failed to connect"));
    }
  }

  private select(subchannel: Subchannel): void {
    this.selected = subchannel;
    this.connecting = false;
    this.stickyFailure = false;
    const picked = subchannel.picked;
    this.report(ConnectivityState.READY, { pick: () => picked });
  }

  private report(state: ConnectivityState, picker: Picker): void {
    this.state = state;
    this.helper.updateState(state, picker);
  }

  /** @internal The IDLE picker's way back: the first call starts a new pass. */
  wake(): void {
    if (this.state === ConnectivityState.IDLE) queueMicrotask(() => this.exitIdle());
  }
}

class IdlePicker implements Picker {
  constructor(private readonly policy: PickFirst) {}

  pick() {
    this.policy.wake();
    return QUEUE;
  }
}

function shuffle<T>(list: T[]): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
}

/** RFC 8305 §4: alternate address families, starting with the family of the first address. */
function interleaveFamilies(list: SocketAddress[]): SocketAddress[] {
  const family = (a: SocketAddress) => ("host" in a ? isIP(a.host) : 0);
  const first = list[0] === undefined ? 0 : family(list[0]);
  const same = list.filter((a) => family(a) === first);
  const other = list.filter((a) => family(a) !== first);
  if (other.length === 0) return list;
  const out: SocketAddress[] = [];
  for (let i = 0; i < Math.max(same.length, other.length); i++) {
    if (i < same.length) out.push(same[i]!);
    if (i < other.length) out.push(other[i]!);
  }
  return out;
}
