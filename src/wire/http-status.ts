import { StatusCode } from "./status.js";

/**
 * The status for a response that carried no `grpc-status`, from its HTTP status
 * (gRPC doc/http-grpc-status-mapping.md). Only for that case: a `grpc-status`, when
 * present, always wins.
 */
export function httpStatusToCode(httpStatus: number): StatusCode {
  switch (httpStatus) {
    case 400: return StatusCode.INTERNAL;
    case 401: return StatusCode.UNAUTHENTICATED;
    case 403: return StatusCode.PERMISSION_DENIED;
    case 404: return StatusCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return StatusCode.UNAVAILABLE;
    default: return StatusCode.UNKNOWN;
  }
}

/** HTTP/2 error codes (RFC 9113 section 7), as carried by RST_STREAM and GOAWAY. */
export enum Http2ErrorCode {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  CONNECT_ERROR = 0xa,
  ENHANCE_YOUR_CALM = 0xb,
  INADEQUATE_SECURITY = 0xc,
  HTTP_1_1_REQUIRED = 0xd,
}

/**
 * The status for a stream ended by RST_STREAM (or GOAWAY) with this error code
 * (gRPC PROTOCOL-HTTP2.md, "Errors"). NO_ERROR is INTERNAL because a server should
 * have sent an explicit OK; REFUSED_STREAM is UNAVAILABLE because nothing was
 * processed and the call may be retried. STREAM_CLOSED has no mapping in the spec and
 * unknown codes are a peer bug, so both are INTERNAL.
 */
export function http2ErrorCodeToStatus(errorCode: number): StatusCode {
  switch (errorCode) {
    case Http2ErrorCode.REFUSED_STREAM: return StatusCode.UNAVAILABLE;
    case Http2ErrorCode.CANCEL: return StatusCode.CANCELLED;
    case Http2ErrorCode.ENHANCE_YOUR_CALM: return StatusCode.RESOURCE_EXHAUSTED;
    case Http2ErrorCode.INADEQUATE_SECURITY: return StatusCode.PERMISSION_DENIED;
    default: return StatusCode.INTERNAL;
  }
}

/** The RFC name of an HTTP/2 error code ("REFUSED_STREAM"), or "0x..." for an unknown one, for status details. */
export function http2ErrorCodeName(errorCode: number): string {
  return Http2ErrorCode[errorCode] ?? `0x${errorCode.toString(16)}`;
}
