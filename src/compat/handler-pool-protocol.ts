// What a HandlerPool and its threads say to each other. Each thread runs one handler at
// a time; a shared Int32Array per thread carries what must reach a handler that is busy
// computing (CANCELLED: the id of a cancelled task, CANCEL_CODE: why) and wakes it when it waits for a
// request or for room to send (WAKE, bumped after every message to the thread).
import type { MethodKind, StatusCode } from "../index.js";
import type { MetadataPairs } from "./blocking-protocol.js";

export const WAKE = 0;
export const CANCELLED = 1;
/** The status code of the cancellation in CANCELLED (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE at shutdown). */
export const CANCEL_CODE = 2;
export const SLOTS = 3;

/** Responses a streaming handler may send ahead of the server's writes. */
export const RESPONSE_WINDOW = 8;

export interface TaskStart {
  t: "task";
  id: number;
  module: string;
  /** Export names to look for, in order (the member name, then the proto name). */
  names: string[];
  kind: MethodKind;
  /** The request of a unary-request method. */
  request?: unknown;
  metadata: MetadataPairs;
  deadline: number | undefined;
  method: string;
  peer: string;
  /** The server context's authContext(), peerIdentities() and peerIdentityKey(), as they were. */
  auth: Record<string, Uint8Array[]>;
  peerIdentities: Uint8Array[] | undefined;
  peerIdentityKey: string | undefined;
}

export type ToThread =
  | TaskStart
  | { t: "request"; id: number; value: unknown }
  | { t: "requests-end"; id: number; error?: string }
  | { t: "credit"; id: number }
  | { t: "cancel"; id: number };

export interface TaskStatus {
  code?: StatusCode;
  details?: string;
  trailingMetadata?: MetadataPairs;
}

export type FromThread =
  | { t: "headers"; id: number; metadata: MetadataPairs }
  | { t: "message"; id: number; value: unknown }
  | { t: "pull"; id: number }
  | { t: "done"; id: number; value?: unknown; status: TaskStatus }
  | { t: "failed"; id: number; status: TaskStatus; rpc: boolean; message: string };
