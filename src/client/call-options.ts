import type { CallCredentials } from "../credentials/index.js";
import type { MetadataInit } from "../wire/index.js";

/**
 * Per-call options (the keyword arguments of gRPC Python's multi-callables).
 * `timeoutMs` is relative, `deadline` absolute (a Date or epoch milliseconds);
 * when both are given the earlier wins.
 */
export interface CallOptions {
  timeoutMs?: number;
  deadline?: Date | number;
  metadata?: MetadataInit;
  /** Aborting cancels the call: RST_STREAM on the wire, CANCELLED to the caller. */
  signal?: AbortSignal;
  /** Queue the call while the channel is not READY instead of failing fast with UNAVAILABLE. */
  waitForReady?: boolean;
  /** Message compression for this call's requests: "identity", "gzip" or "deflate". */
  compression?: string;
  /**
   * Call credentials for this call only, run after the channel's (gRPC Python's
   * `credentials=`); refused with UNAUTHENTICATED on a plaintext channel.
   */
  credentials?: CallCredentials;
}

/** How a method's messages become bytes and back; both default to raw bytes. */
export interface MethodSerializers<Req, Res> {
  requestSerializer?: (request: Req) => Uint8Array;
  responseDeserializer?: (bytes: Uint8Array) => Res;
  /**
   * The method belongs to a known service (`createClient` and generated clients set
   * this), so metrics may name it; others are reported as "other" (gRPC Python's
   * `_registered_method`).
   */
  registeredMethod?: boolean;
}
