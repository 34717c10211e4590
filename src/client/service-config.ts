import { StatusCode } from "../wire/index.js";
import { loadBalancerFor } from "./load-balancer-registry.js";

/** gRFC A6: a retry policy may ask for at most this many attempts; more is cut to this. */
const MAX_ATTEMPTS_LIMIT = 5;

/** A method's retry policy (service config `retryPolicy`, gRFC A6). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly retryableStatusCodes: ReadonlySet<StatusCode>;
}

/** A method's hedging policy (service config `hedgingPolicy`, gRFC A6). */
export interface HedgingPolicy {
  readonly maxAttempts: number;
  readonly hedgingDelayMs: number;
  readonly nonFatalStatusCodes: ReadonlySet<StatusCode>;
}

/** What the service config says about one method. */
export interface MethodConfig {
  readonly timeoutMs?: number;
  readonly waitForReady?: boolean;
  readonly maxRequestMessageBytes?: number;
  readonly maxResponseMessageBytes?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly hedgingPolicy?: HedgingPolicy;
}

/** A checked service config (gRPC's service_config.proto, as JSON). */
export interface ServiceConfig {
  /** The first policy of `loadBalancingConfig` (or `loadBalancingPolicy`) this library has, if any was named. */
  readonly loadBalancing: { readonly name: string; readonly config: Readonly<Record<string, unknown>> } | undefined;
  /** By "/service/method", "/service/" (every method of a service) and "" (every method). */
  readonly methods: ReadonlyMap<string, MethodConfig>;
  readonly retryThrottling: { readonly maxTokens: number; readonly tokenRatio: number } | undefined;
  /**
   * `healthCheckConfig.serviceName` (gRFC A17): the service whose health each backend
   * reports on `grpc.health.v1.Health/Watch` ("" is the whole server); undefined, no
   * client-side health checking.
   */
  readonly healthCheckServiceName: string | undefined;
}

type Json = Record<string, unknown>;

/** Thrown for a service config that breaks the schema; the message names the field. */
function invalid(field: string, problem: string): TypeError {
  return new TypeError(`Invalid service config: ${field} ${problem}`);
}

/**
 * Checks a service config (JSON text or the parsed object) and returns it in the
 * form the channel uses; throws a TypeError naming the offending field.
 */
export function parseServiceConfig(input: string | object): ServiceConfig {
  let json: unknown = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new TypeError(`Invalid service config: not JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(json)) throw invalid("(top level)", "must be a JSON object");
  return {
    loadBalancing: parseLoadBalancing(json),
    methods: parseMethodConfigs(json["methodConfig"]),
    retryThrottling: parseThrottling(json["retryThrottling"]),
    healthCheckServiceName: parseHealthCheck(json["healthCheckConfig"]),
  };
}

/** The method config for `path` ("/package.Service/Method"): exact name, then service, then default. */
export function methodConfigFor(config: ServiceConfig, path: string): MethodConfig | undefined {
  const methods = config.methods;
  if (methods.size === 0) return undefined;
  return methods.get(path) ?? methods.get(path.slice(0, path.lastIndexOf("/") + 1)) ?? methods.get("");
}

function parseLoadBalancing(json: Json): ServiceConfig["loadBalancing"] {
  const list = json["loadBalancingConfig"];
  if (list !== undefined) {
    if (!Array.isArray(list)) throw invalid("loadBalancingConfig", "must be an array");
    let named = false;
    for (let i = 0; i < list.length; i++) {
      const entry: unknown = list[i];
      const field = `loadBalancingConfig[${i}]`;
      if (!isObject(entry) || Object.keys(entry).length !== 1) throw invalid(field, "must be an object with exactly one policy name");
      const name = Object.keys(entry)[0]!;
      const config = entry[name] ?? {};
      if (!isObject(config)) throw invalid(`${field}.${name}`, "must be an object");
      named = true;
      const policy = loadBalancerFor(name);
      if (policy === undefined) continue; // gRPC takes the first policy it knows
      try {
        return { name, config: policy.validate(config) };
      } catch (err) {
        throw invalid(`${field}.${name}:`, (err as Error).message);
      }
    }
    if (named) throw invalid("loadBalancingConfig", `names no supported policy (${list.map((e: Json) => Object.keys(e)[0]).join(", ")})`);
  }
  const policy = json["loadBalancingPolicy"];
  if (policy === undefined) return undefined;
  if (typeof policy !== "string") throw invalid("loadBalancingPolicy", "must be a string");
  const name = policy.toLowerCase();
  if (loadBalancerFor(name) === undefined) throw invalid("loadBalancingPolicy", `names an unknown policy ${policy}`);
  return { name, config: {} };
}

function parseMethodConfigs(value: unknown): Map<string, MethodConfig> {
  const methods = new Map<string, MethodConfig>();
  if (value === undefined) return methods;
  if (!Array.isArray(value)) throw invalid("methodConfig", "must be an array");
  value.forEach((entry: unknown, i) => {
    const field = `methodConfig[${i}]`;
    if (!isObject(entry)) throw invalid(field, "must be an object");
    const config = parseMethodConfig(entry, field);
    const names = entry["name"];
    if (!Array.isArray(names) || names.length === 0) throw invalid(`${field}.name`, "must be a non-empty array");
    names.forEach((name: unknown, j) => {
      const nameField = `${field}.name[${j}]`;
      if (!isObject(name)) throw invalid(nameField, "must be an object");
      const service = optionalString(name["service"], `${nameField}.service`) ?? "";
      const method = optionalString(name["method"], `${nameField}.method`) ?? "";
      if (service === "" && method !== "") throw invalid(nameField, "names a method without a service");
      const key = service === "" ? "" : `/${service}/${method}`;
      if (methods.has(key)) throw invalid(nameField, `duplicates the name ${key === "" ? "(default)" : key}`);
      methods.set(key, config);
    });
  });
  return methods;
}

function parseMethodConfig(entry: Json, field: string): MethodConfig {
  const config: {
    -readonly [K in keyof MethodConfig]: MethodConfig[K];
  } = {};
  if (entry["waitForReady"] !== undefined) {
    if (typeof entry["waitForReady"] !== "boolean") throw invalid(`${field}.waitForReady`, "must be a boolean");
    config.waitForReady = entry["waitForReady"];
  }
  if (entry["timeout"] !== undefined) config.timeoutMs = duration(entry["timeout"], `${field}.timeout`);
  if (entry["maxRequestMessageBytes"] !== undefined) config.maxRequestMessageBytes = byteCount(entry["maxRequestMessageBytes"], `${field}.maxRequestMessageBytes`);
  if (entry["maxResponseMessageBytes"] !== undefined) config.maxResponseMessageBytes = byteCount(entry["maxResponseMessageBytes"], `${field}.maxResponseMessageBytes`);
  const retry = entry["retryPolicy"];
  const hedging = entry["hedgingPolicy"];
  if (retry !== undefined && hedging !== undefined) throw invalid(field, "has both retryPolicy and hedgingPolicy");
  if (retry !== undefined) config.retryPolicy = parseRetryPolicy(retry, `${field}.retryPolicy`);
  if (hedging !== undefined) config.hedgingPolicy = parseHedgingPolicy(hedging, `${field}.hedgingPolicy`);
  return config;
}

function parseRetryPolicy(value: unknown, field: string): RetryPolicy {
  if (!isObject(value)) throw invalid(field, "must be an object");
  const initialBackoffMs = duration(required(value, "initialBackoff", field), `${field}.initialBackoff`);
  const maxBackoffMs = duration(required(value, "maxBackoff", field), `${field}.maxBackoff`);
  if (initialBackoffMs <= 0) throw invalid(`${field}.initialBackoff`, "must be above 0");
  if (maxBackoffMs <= 0) throw invalid(`${field}.maxBackoff`, "must be above 0");
  const multiplier = required(value, "backoffMultiplier", field);
  if (typeof multiplier !== "number" || !(multiplier > 0)) throw invalid(`${field}.backoffMultiplier`, "must be a number above 0");
  const codes = statusCodes(required(value, "retryableStatusCodes", field), `${field}.retryableStatusCodes`);
  if (codes.size === 0) throw invalid(`${field}.retryableStatusCodes`, "must not be empty");
  return { maxAttempts: attempts(value, field), initialBackoffMs, maxBackoffMs, backoffMultiplier: multiplier, retryableStatusCodes: codes };
}

function parseHedgingPolicy(value: unknown, field: string): HedgingPolicy {
  if (!isObject(value)) throw invalid(field, "must be an object");
  const delay = value["hedgingDelay"];
  const codes = value["nonFatalStatusCodes"];
  return {
    maxAttempts: attempts(value, field),
    hedgingDelayMs: delay === undefined ? 0 : duration(delay, `${field}.hedgingDelay`),
    nonFatalStatusCodes: codes === undefined ? new Set() : statusCodes(codes, `${field}.nonFatalStatusCodes`),
  };
}

function parseThrottling(value: unknown): ServiceConfig["retryThrottling"] {
  if (value === undefined) return undefined;
  const field = "retryThrottling";
  if (!isObject(value)) throw invalid(field, "must be an object");
  const maxTokens = required(value, "maxTokens", field);
  const tokenRatio = required(value, "tokenRatio", field);
  if (typeof maxTokens !== "number" || !(maxTokens > 0) || maxTokens > 1000) throw invalid(`${field}.maxTokens`, "must be a number in (0, 1000]");
  if (typeof tokenRatio !== "number" || !(tokenRatio > 0)) throw invalid(`${field}.tokenRatio`, "must be a number above 0");
  // gRFC A6: the ratio keeps three decimals.
  return { maxTokens, tokenRatio: Math.round(tokenRatio * 1000) / 1000 };
}

function parseHealthCheck(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid("healthCheckConfig", "must be an object");
  return optionalString(value["serviceName"], "healthCheckConfig.serviceName");
}

function attempts(value: Json, field: string): number {
  const n = required(value, "maxAttempts", field);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 2) throw invalid(`${field}.maxAttempts`, "must be an integer of at least 2");
  return Math.min(n, MAX_ATTEMPTS_LIMIT);
}

function required(value: Json, key: string, field: string): unknown {
  const v = value[key];
  if (v === undefined) throw invalid(`${field}.${key}`, "is required");
  return v;
}

/** A protobuf JSON Duration ("1.5s") in milliseconds. */
function duration(value: unknown, field: string): number {
  if (typeof value !== "string" || !/^\d+(\.\d{1,9})?s$/.test(value)) throw invalid(field, `must be a duration such as "1.5s", got ${JSON.stringify(value)}`);
  return Number(value.slice(0, -1)) * 1000;
}

function byteCount(value: unknown, field: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw invalid(field, "must be a non-negative integer");
  return n;
}

function statusCodes(value: unknown, field: string): Set<StatusCode> {
  if (!Array.isArray(value)) throw invalid(field, "must be an array of status codes");
  const codes = new Set<StatusCode>();
  for (const code of value as unknown[]) {
    let parsed: StatusCode | undefined;
    if (typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 16) parsed = code;
    else if (typeof code === "string" && code.toUpperCase() in StatusCode && Number.isNaN(Number(code))) parsed = StatusCode[code.toUpperCase() as keyof typeof StatusCode];
    if (parsed === undefined || parsed === StatusCode.OK) throw invalid(field, `has an invalid status code ${JSON.stringify(code)}`);
    codes.add(parsed);
  }
  return codes;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(field, "must be a string");
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
