import { constants, type ServerStreamResponseOptions } from "node:http2";

/** The HTTP/2 constants the layers above need, so that they never import node:http2. */
export const http2Constants = {
  NGHTTP2_CANCEL: constants.NGHTTP2_CANCEL,
  NGHTTP2_NO_ERROR: constants.NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM: constants.NGHTTP2_REFUSED_STREAM,
  NGHTTP2_FLAG_END_STREAM: constants.NGHTTP2_FLAG_END_STREAM,
} as const;

// Node adds a `date` header to responses unless told not to (an option its type
// declarations omit); gRPC clients would surface it as metadata.
/** `stream.respond()` options for headers followed by messages and trailers. */
export const RESPOND_WITH_TRAILERS = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;
/** `stream.respond()` options for a headers-only (trailers-only) response. */
export const RESPOND_END_STREAM = { endStream: true, sendDate: false } as ServerStreamResponseOptions;
