import type { ChannelControlHelper, LoadBalancerConfigValidator, LoadBalancerFactory } from "./load-balancer.js";
import { PickFirst, validatePickFirstConfig } from "./pick-first.js";
import { RoundRobin } from "./round-robin.js";

interface Registration {
  factory: LoadBalancerFactory;
  validate: LoadBalancerConfigValidator;
}

const policies = new Map<string, Registration>();

/**
 * Registers a load-balancing policy under `name`, for service configs'
 * `loadBalancingConfig` and the `grpc.lb_policy_name` option (grpc-js
 * `registerLoadBalancerType`; gRPC Python has no equivalent). A later registration of
 * the same name replaces the earlier one.
 */
export function registerLoadBalancer(name: string, factory: LoadBalancerFactory, validateConfig?: LoadBalancerConfigValidator): void {
  policies.set(name, { factory, validate: validateConfig ?? ((c) => c) });
}

/** @internal The registration for `name`, if any (built-ins included). */
export function loadBalancerFor(name: string): Registration | undefined {
  return policies.get(name) ?? BUILTINS.get(name);
}

const BUILTINS: ReadonlyMap<string, Registration> = new Map([
  ["pick_first", { factory: (helper: ChannelControlHelper) => new PickFirst(helper), validate: validatePickFirstConfig }],
  ["round_robin", { factory: (helper: ChannelControlHelper) => new RoundRobin(helper), validate: (c: Readonly<Record<string, unknown>>) => c }],
]);

