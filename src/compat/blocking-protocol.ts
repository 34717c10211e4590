// What the blocking client's calling thread and its worker thread say to each other.
// Messages go over one MessagePort; after each message to the calling thread the worker
// bumps WAKE in a shared Int32Array and notifies it, which is what the calling thread
// sleeps on (Atomics.wait) while it is blocked. Everything here is structured-clonable.
import { Metadata, RpcError, type MetadataValue, type StatusCode } from "../index.js";
import type { CallOutcome } from "./call-future.js";

/** Slots of the shared Int32Array. */
export const WAKE = 0;
/** 0 while the worker runs; set to GONE by the worker as it crashes or exits. */
export const STATE = 1;
/** Bumped by the worker every HEARTBEAT_MS while its event loop turns. */
export const HEARTBEAT = 2;
export const SLOTS = 3;
export const GONE = 1;
export const HEARTBEAT_MS = 100;

export type CallKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";
export type MetadataPairs = [string, MetadataValue][];

/** The call options that cross to the worker; `deadline` is absolute, fixed on the calling thread. */
export interface WireCallOptions {
  deadline?: number;
  metadata?: MetadataPairs;
  waitForReady?: boolean;
  compression?: string;
}

export type ToWorker =
  | { t: "start"; id: number; kind: CallKind; path: string; request?: Uint8Array; options: WireCallOptions; outcome: boolean }
  | { t: "write"; id: number; bytes: Uint8Array }
  | { t: "end"; id: number }
  | { t: "next"; id: number }
  | { t: "headers"; id: number }
  | { t: "status"; id: number }
  | { t: "cancel"; id: number; details: string }
  | { t: "ready"; id: number }
  | { t: "close" };

export interface WireOutcome {
  code: StatusCode;
  details: string;
  initialMetadata: MetadataPairs;
  trailingMetadata: MetadataPairs;
}

/** An `RpcError`, or (`usage`) a TypeError the core threw for bad options. */
export interface WireError {
  code: StatusCode;
  details: string;
  initialMetadata: MetadataPairs;
  trailingMetadata: MetadataPairs;
  debugErrorString?: string;
  usage?: string;
}

export type FromWorker =
  | { t: "response"; id: number; bytes: Uint8Array; outcome?: WireOutcome }
  | { t: "message"; id: number; bytes: Uint8Array }
  | { t: "eof"; id: number; outcome: WireOutcome }
  | { t: "ack"; id: number }
  | { t: "headers"; id: number; metadata: MetadataPairs }
  | { t: "status"; id: number; outcome: WireOutcome }
  | { t: "ready"; id: number }
  | { t: "error"; id: number; error: WireError }
  | { t: "closed"; id: 0 }
  | { t: "crash"; id: 0; message: string };

export function toPairs(metadata: Metadata): MetadataPairs {
  return [...metadata];
}

export function toWireError(err: unknown): WireError {
  if (err instanceof RpcError) {
    return {
      code: err.code,
      details: err.details,
      initialMetadata: toPairs(err.initialMetadata),
      trailingMetadata: toPairs(err.trailingMetadata),
      debugErrorString: err.debugErrorString,
    };
  }
  const e = RpcError.from(err);
  return { code: e.code, details: e.details, initialMetadata: [], trailingMetadata: [], usage: err instanceof TypeError ? err.message : undefined };
}

/** The error to throw on the calling thread; made there, so its stack is the caller's. */
export function fromWireError(error: WireError): Error {
  if (error.usage !== undefined) return new TypeError(error.usage);
  return new RpcError(error.code, error.details, {
    initialMetadata: new Metadata(error.initialMetadata),
    trailingMetadata: new Metadata(error.trailingMetadata),
    debugErrorString: error.debugErrorString,
  });
}

/**
 * A copy of `bytes` that owns exactly its ArrayBuffer, to be transferred: sending a view
 * as it is would copy its whole underlying buffer (a received chunk, a Buffer pool),
 * and transferring the caller's own array would detach it.
 */
export function ownCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

export function toOutcome(o: WireOutcome): CallOutcome {
  return { code: o.code, details: o.details, initialMetadata: new Metadata(o.initialMetadata), trailingMetadata: new Metadata(o.trailingMetadata) };
}
