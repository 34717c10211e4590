// The server's defence against PING floods, as gRPC core's ping abuse policy (and
// grpc-go's enforcement policy) define it: a PING that arrives sooner than allowed after
// the previous one is a strike; more than `maxStrikes` strikes and the connection is
// closed with GOAWAY ENHANCE_YOUR_CALM and the debug data "too_many_pings", which gRPC
// clients recognise (they double their keepalive time; see client-connection.ts).
//
// "Sooner than allowed" is `min_ping_interval_without_data_ms` (default 5 minutes) while
// calls are open, and 2 hours when the connection has no calls and
// `keepalive_permit_without_calls` is off. Sending HEADERS or DATA forgives everything
// (strikes back to 0, next ping always allowed).
//
// Node has no hook for frames sent, so "sent HEADERS or DATA" is measured on the socket:
// between two received pings, a server that sent nothing else wrote only the ack of the
// previous ping (17 bytes), its own keepalive pings (17 bytes each) and perhaps a
// SETTINGS ack (9 bytes). More than that means other frames went out. The measure is
// generous (a WINDOW_UPDATE or RST_STREAM also counts as activity), so it can only
// forgive a ping that gRPC core would have counted, never strike one it would forgive.
import { constants, type ServerHttp2Session } from "node:http2";
import {
  booleanOption,
  numberOption,
  OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS,
  OPT_MAX_PING_STRIKES,
  OPT_MIN_PING_INTERVAL_WITHOUT_DATA_MS,
  type ChannelOptions,
} from "./options.js";

export interface PingPolicy {
  minIntervalMs: number;
  /** 0 means unlimited. */
  maxStrikes: number;
  permitWithoutCalls: boolean;
}

export const DEFAULT_MIN_PING_INTERVAL_WITHOUT_DATA_MS = 5 * 60_000;
export const DEFAULT_MAX_PING_STRIKES = 2;
const IDLE_MIN_PING_INTERVAL_MS = 2 * 60 * 60_000;
const PING_FRAME_BYTES = 17;
const SETTINGS_ACK_BYTES = 9;
export const TOO_MANY_PINGS = "too_many_pings";

export function pingPolicyFrom(options: ChannelOptions): PingPolicy {
  return {
    minIntervalMs: Math.max(0, numberOption(options, OPT_MIN_PING_INTERVAL_WITHOUT_DATA_MS, DEFAULT_MIN_PING_INTERVAL_WITHOUT_DATA_MS)),
    maxStrikes: Math.max(0, numberOption(options, OPT_MAX_PING_STRIKES, DEFAULT_MAX_PING_STRIKES)),
    permitWithoutCalls: booleanOption(options, OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS, false),
  };
}

export interface PingStrikesConfig {
  policy: PingPolicy;
  /** Calls open on the session now. */
  activeStreams: () => number;
  /** Keepalive pings this server has sent on the session so far. */
  pingsSent: () => number;
  /** The peer crossed the limit; the GOAWAY is already queued. */
  onAbuse: () => void;
}

/** Watches the PINGs one server session receives. */
export class PingStrikes {
  private strikes = 0;
  private lastPingAt = Number.NEGATIVE_INFINITY;
  private bytesAtLastPing: number | undefined;
  private pingsSentAtLastPing = 0;

  constructor(
    private readonly session: ServerHttp2Session,
    private readonly config: PingStrikesConfig,
  ) {
    session.on("ping", () => this.onPing());
  }

  private onPing(): void {
    const { policy } = this.config;
    const now = Date.now();
    if (this.sentOtherFrames()) {
      this.strikes = 0;
      this.lastPingAt = Number.NEGATIVE_INFINITY;
    }
    const idle = this.config.activeStreams() === 0 && !policy.permitWithoutCalls;
    const nextAllowed = this.lastPingAt + (idle ? IDLE_MIN_PING_INTERVAL_MS : policy.minIntervalMs);
    this.lastPingAt = now;
    if (nextAllowed <= now) return;
    this.strikes++;
    if (policy.maxStrikes === 0 || this.strikes <= policy.maxStrikes) return;
    if (this.session.closed || this.session.destroyed) return;
    try {
      this.session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from(TOO_MANY_PINGS));
    } catch {
      // Destroyed meanwhile.
    }
    this.config.onAbuse();
  }

  /** True if the session wrote frames other than pings since the previous received ping. */
  private sentOtherFrames(): boolean {
    const written = (this.session.socket as { bytesWritten?: number } | undefined)?.bytesWritten;
    const sent = this.config.pingsSent();
    const previous = this.bytesAtLastPing;
    const ownPings = sent - this.pingsSentAtLastPing;
    this.bytesAtLastPing = written;
    this.pingsSentAtLastPing = sent;
    // Unknown counts forgive: never strike a ping gRPC core would have allowed.
    if (written === undefined || previous === undefined) return true;
    return written - previous > PING_FRAME_BYTES * (1 + ownPings) + SETTINGS_ACK_BYTES;
  }
}
