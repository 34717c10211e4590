import { constants } from "node:http2";

/** The HTTP/2 constants the layers above need, so that they never import node:http2. */
export const http2Constants = {
  NGHTTP2_CANCEL: constants.NGHTTP2_CANCEL,
  NGHTTP2_NO_ERROR: constants.NGHTTP2_NO_ERROR,
  NGHTTP2_INTERNAL_ERROR: constants.NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_REFUSED_STREAM: constants.NGHTTP2_REFUSED_STREAM,
  NGHTTP2_FLAG_END_STREAM: constants.NGHTTP2_FLAG_END_STREAM,
} as const;
