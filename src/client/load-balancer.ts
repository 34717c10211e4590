import type { ConnectivityState, SocketAddress } from "../transport/index.js";
import type { Metadata, StatusCode } from "../wire/index.js";
import type { Subchannel } from "./subchannel.js";

/** What a picker knows of the call it places. Valid during `pick()` only. */
export interface PickInfo {
  /** "/package.Service/Method". */
  readonly methodPath: string;
  /** The call's metadata, if it has any. */
  readonly requestMetadata: Metadata | undefined;
}

/**
 * Where a call goes: to a READY subchannel (`complete`), nowhere yet (`queue`: it
 * waits for the next picker), or nowhere at all: `fail` ends calls without
 * waitForReady with `code` (waitForReady calls keep waiting), `drop` ends every call.
 */
export type PickResult =
  | { readonly type: "complete"; readonly subchannel: Subchannel }
  | { readonly type: "queue" }
  | { readonly type: "fail" | "drop"; readonly code: StatusCode; readonly details: string };

/** Places calls; a policy makes a new one whenever its view changes (grpc-js `Picker`). */
export interface Picker {
  pick(info: PickInfo): PickResult;
}

/** The channel as a load-balancing policy sees it (grpc-js `ChannelControlHelper`). */
export interface ChannelControlHelper {
  /** A subchannel for `address` (shared with other users of the address); give it back with `unref()`. */
  createSubchannel(address: SocketAddress): Subchannel;
  /** The policy's state is the channel's state; `picker` places calls from now on. */
  updateState(state: ConnectivityState, picker: Picker): void;
  /** Asks the resolver for fresh addresses (a connection dropped, or none would connect). */
  requestReresolution(): void;
}

/**
 * A load-balancing policy (grpc-js `LoadBalancer`; gRPC Python has no public API for
 * policies). It gets each address list with its config from the service config's
 * `loadBalancingConfig` (`{}` when none), and reports its state and picker through
 * the helper.
 */
export interface LoadBalancer {
  updateAddressList(addresses: readonly SocketAddress[], config: Readonly<Record<string, unknown>>): void;
  /** The channel wants to connect (a call or `getState(true)` while IDLE). */
  exitIdle(): void;
  /** Cut every subchannel's backoff short. */
  resetBackoff(): void;
  /** Gives back every subchannel; the policy is not used again. */
  destroy(): void;
}

/** Makes a policy for one channel. */
export type LoadBalancerFactory = (helper: ChannelControlHelper) => LoadBalancer;

/**
 * Checks (and may normalise) a policy's config from `loadBalancingConfig`; throws an
 * Error whose message says what is wrong (the channel adds where).
 */
export type LoadBalancerConfigValidator = (config: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;

/** A picker that queues every call. */
export const QUEUE_PICKER: Picker = { pick: () => QUEUE };
export const QUEUE: PickResult = { type: "queue" };

/** A picker that fails calls without waitForReady with `code` and `details`. */
export function failingPicker(code: StatusCode, details: string): Picker {
  const result: PickResult = { type: "fail", code, details };
  return { pick: () => result };
}
