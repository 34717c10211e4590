/** The gRPC status codes (gRPC Python `grpc.StatusCode`). */
export enum StatusCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

const MAX_CODE = StatusCode.UNAUTHENTICATED;

/** True for an integer in 0..16, i.e. a code this enum names. */
export function isStatusCode(code: number): code is StatusCode {
  return Number.isInteger(code) && code >= 0 && code <= MAX_CODE;
}

/** The upper-case name of a status code ("NOT_FOUND"); "UNKNOWN" for a number that is not a code (gRPC Python `StatusCode.name`). */
export function statusCodeName(code: number): string {
  return isStatusCode(code) ? StatusCode[code] : "UNKNOWN";
}

/**
 * Parses a `grpc-status` header value.
 *
 * The spec writes it as plain ASCII decimal digits; any such number outside 0..16 is a
 * status from a newer peer and must surface as UNKNOWN, while anything that is not
 * digits at all (sign, spaces, hex, empty) is not a status and yields undefined so the
 * caller can fall back to the HTTP status mapping. Leading zeros are tolerated.
 */
export function parseStatusCode(value: string | undefined): StatusCode | undefined {
  if (value === undefined) return undefined;
  const n = value.length;
  if (n === 0) return undefined;
  let code = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    // Saturate instead of overflowing: every big number is UNKNOWN anyway.
    if (code <= MAX_CODE) code = code * 10 + c;
  }
  return code <= MAX_CODE ? code : StatusCode.UNKNOWN;
}

/**
 * A call's outcome as a value (gRPC Python `grpc.Status`): what `context.abortWithStatus()`
 * ends a call with, and what `async-grpc/status`'s `toStatus()` makes from a rich
 * `google.rpc.Status`.
 */
export interface GrpcStatus {
  readonly code: StatusCode;
  readonly details: string;
  readonly trailingMetadata: Iterable<readonly [string, string | Uint8Array]>;
}
