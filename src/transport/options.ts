// gRPC channel/server arguments understood by the transport, named as in gRPC core
// so that options written for gRPC Python or grpc-js carry over.
import { logDebug } from "./trace.js";

/** Channel or server options: gRPC channel arguments as key/value pairs (gRPC Python `options`). */
export type ChannelOptions = Readonly<Record<string, string | number | boolean | undefined>>;

export const OPT_MAX_RECEIVE_MESSAGE_LENGTH = "grpc.max_receive_message_length";
export const OPT_MAX_SEND_MESSAGE_LENGTH = "grpc.max_send_message_length";
export const OPT_KEEPALIVE_TIME_MS = "grpc.keepalive_time_ms";
export const OPT_KEEPALIVE_TIMEOUT_MS = "grpc.keepalive_timeout_ms";
export const OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS = "grpc.keepalive_permit_without_calls";
export const OPT_INITIAL_RECONNECT_BACKOFF_MS = "grpc.initial_reconnect_backoff_ms";
export const OPT_MAX_RECONNECT_BACKOFF_MS = "grpc.max_reconnect_backoff_ms";
export const OPT_MIN_RECONNECT_BACKOFF_MS = "grpc.min_reconnect_backoff_ms";
export const OPT_PRIMARY_USER_AGENT = "grpc.primary_user_agent";
export const OPT_SECONDARY_USER_AGENT = "grpc.secondary_user_agent";
export const OPT_DEFAULT_AUTHORITY = "grpc.default_authority";
export const OPT_SSL_TARGET_NAME_OVERRIDE = "grpc.ssl_target_name_override";
export const OPT_MAX_CONCURRENT_STREAMS = "grpc.max_concurrent_streams";
/** Per-stream HTTP/2 receive window in bytes (gRPC core's lookahead). */
export const OPT_STREAM_WINDOW_BYTES = "grpc.http2.lookahead_bytes";
/** Connection-level HTTP/2 receive window in bytes. */
export const OPT_CONNECTION_WINDOW_BYTES = "grpc-node.flow_control_window";
export const OPT_MAX_FRAME_SIZE = "grpc.http2.max_frame_size";
export const OPT_DEFAULT_COMPRESSION = "grpc.default_compression_algorithm";
export const OPT_MAX_CONNECTION_IDLE_MS = "grpc.max_connection_idle_ms";
export const OPT_MAX_CONNECTION_AGE_MS = "grpc.max_connection_age_ms";
export const OPT_MAX_CONNECTION_AGE_GRACE_MS = "grpc.max_connection_age_grace_ms";
/** 0 turns off retries, transparent ones included (gRPC core's switch). */
export const OPT_ENABLE_RETRIES = "grpc.enable_retries";
/** Request bytes a call keeps so that it can be retried (gRPC core's per-RPC retry buffer). */
export const OPT_PER_RPC_RETRY_BUFFER_SIZE = "grpc.per_rpc_retry_buffer_size";
/** Channel-wide bytes of requests kept for retries, across all calls (gRPC core's retry buffer). */
export const OPT_RETRY_BUFFER_SIZE = "grpc.retry_buffer_size";
/** A service config as JSON text: the default, used until (or unless) the resolver gives one. */
export const OPT_SERVICE_CONFIG = "grpc.service_config";
/** 1 ignores service configs from the resolver (DNS TXT records, custom resolvers). */
export const OPT_SERVICE_CONFIG_DISABLE_RESOLUTION = "grpc.service_config_disable_resolution";
/** Non-zero: no client-side health checking (gRFC A17), whatever the service config's `healthCheckConfig` says (gRPC core's option). */
export const OPT_INHIBIT_HEALTH_CHECKING = "grpc.inhibit_health_checking";
/** The load-balancing policy when the service config names none: "pick_first" (default) or "round_robin". */
export const OPT_LB_POLICY_NAME = "grpc.lb_policy_name";
/** The DNS resolver re-resolves a name at most this often (30 s). */
export const OPT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS = "grpc.dns_min_time_between_resolutions_ms";
/** Server: pings closer together than this (with no data sent between) are strikes. */
export const OPT_MIN_PING_INTERVAL_WITHOUT_DATA_MS = "grpc.http2.min_ping_interval_without_data_ms";
/** Server: strikes tolerated before GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; 0 means no limit. */
export const OPT_MAX_PING_STRIKES = "grpc.http2.max_ping_strikes";
/** Client: a channel without calls for this long drops its connection and goes IDLE. */
export const OPT_CLIENT_IDLE_TIMEOUT_MS = "grpc.client_idle_timeout_ms";
/** Server: Node's rapid-reset defence, RST_STREAM frames allowed in a burst (Node >= 22.10). */
export const OPT_STREAM_RESET_BURST = "grpc-node.stream_reset_burst";
/** Server: Node's rapid-reset defence, RST_STREAM frames per second once the burst is spent. */
export const OPT_STREAM_RESET_RATE = "grpc-node.stream_reset_rate";

/** Whether channelz tracks this channel or server (gRPC's option; here off unless set to 1). */
export const OPT_ENABLE_CHANNELZ = "grpc.enable_channelz";
/** Server: a handshake (TLS, then the client's HTTP/2 preface and SETTINGS) not finished this long is abandoned (gRPC core's default: 120 s). */
export const OPT_SERVER_HANDSHAKE_TIMEOUT_MS = "grpc.server_handshake_timeout_ms";

/** Every option key the library reads; the README's options table lists the same keys. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  OPT_ENABLE_CHANNELZ,
  OPT_MAX_RECEIVE_MESSAGE_LENGTH,
  OPT_MAX_SEND_MESSAGE_LENGTH,
  OPT_KEEPALIVE_TIME_MS,
  OPT_KEEPALIVE_TIMEOUT_MS,
  OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS,
  OPT_INITIAL_RECONNECT_BACKOFF_MS,
  OPT_MAX_RECONNECT_BACKOFF_MS,
  OPT_MIN_RECONNECT_BACKOFF_MS,
  OPT_PRIMARY_USER_AGENT,
  OPT_SECONDARY_USER_AGENT,
  OPT_DEFAULT_AUTHORITY,
  OPT_SSL_TARGET_NAME_OVERRIDE,
  OPT_MAX_CONCURRENT_STREAMS,
  OPT_STREAM_WINDOW_BYTES,
  OPT_CONNECTION_WINDOW_BYTES,
  OPT_MAX_FRAME_SIZE,
  OPT_DEFAULT_COMPRESSION,
  OPT_MAX_CONNECTION_IDLE_MS,
  OPT_MAX_CONNECTION_AGE_MS,
  OPT_MAX_CONNECTION_AGE_GRACE_MS,
  OPT_MIN_PING_INTERVAL_WITHOUT_DATA_MS,
  OPT_MAX_PING_STRIKES,
  OPT_CLIENT_IDLE_TIMEOUT_MS,
  OPT_STREAM_RESET_BURST,
  OPT_STREAM_RESET_RATE,
  OPT_ENABLE_RETRIES,
  OPT_PER_RPC_RETRY_BUFFER_SIZE,
  OPT_SERVER_HANDSHAKE_TIMEOUT_MS,
  OPT_RETRY_BUFFER_SIZE,
  OPT_SERVICE_CONFIG,
  OPT_SERVICE_CONFIG_DISABLE_RESOLUTION,
  OPT_LB_POLICY_NAME,
  OPT_INHIBIT_HEALTH_CHECKING,
  OPT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
]);

const reported = new Set<string>();

/**
 * Reports each `grpc.` / `grpc-node.` key the library does not read, once per process
 * per key (GRPC_VERBOSITY=DEBUG): gRPC accepts unknown channel arguments silently,
 * which hides typos and options that only another implementation understands.
 */
export function reportUnknownOptions(options: ChannelOptions, where: "channel" | "server"): void {
  for (const key of Object.keys(options)) {
    if (KNOWN_OPTIONS.has(key) || reported.has(key)) continue;
    if (!key.startsWith("grpc.") && !key.startsWith("grpc-node.")) continue;
    reported.add(key);
    logDebug(`${where} option ${key} is not used by async-grpc and has no effect`);
  }
}

export const DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH = 4 * 1024 * 1024;
export const DEFAULT_PER_RPC_RETRY_BUFFER_SIZE = 256 * 1024;
export const DEFAULT_RETRY_BUFFER_SIZE = 256 * 1024 * 1024;

export function numberOption(options: ChannelOptions, key: string, fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`Channel option ${key} must be a number, got ${String(value)}`);
  return n;
}

export function stringOption(options: ChannelOptions, key: string): string | undefined {
  const value = options[key];
  return value === undefined ? undefined : String(value);
}

export function booleanOption(options: ChannelOptions, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  // gRPC core takes integers (0/1); strings come from configuration files.
  return value === true || (typeof value === "number" && value !== 0) || value === "1" || value === "true";
}

/** gRPC's convention: -1 means unlimited. */
export function messageLimit(options: ChannelOptions, key: string, fallback: number): number {
  const n = numberOption(options, key, fallback);
  return n < 0 ? Number.POSITIVE_INFINITY : n;
}
