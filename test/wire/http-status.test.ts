import { test } from "uvu";
import * as assert from "uvu/assert";
import { constants } from "node:http2";
import { Http2ErrorCode, http2ErrorCodeName, http2ErrorCodeToStatus, httpStatusToCode, StatusCode } from "../../src/wire/index.js";

test("HTTP status mapping follows http-grpc-status-mapping.md", () => {
  const expected: [number, StatusCode][] = [
    [400, StatusCode.INTERNAL],
    [401, StatusCode.UNAUTHENTICATED],
    [403, StatusCode.PERMISSION_DENIED],
    [404, StatusCode.UNIMPLEMENTED],
    [429, StatusCode.UNAVAILABLE],
    [502, StatusCode.UNAVAILABLE],
    [503, StatusCode.UNAVAILABLE],
    [504, StatusCode.UNAVAILABLE],
    [200, StatusCode.UNKNOWN],
    [302, StatusCode.UNKNOWN],
    [415, StatusCode.UNKNOWN],
    [500, StatusCode.UNKNOWN],
    [0, StatusCode.UNKNOWN],
  ];
  for (const [http, code] of expected) assert.is(httpStatusToCode(http), code, String(http));
});

test("RST_STREAM / GOAWAY error codes follow PROTOCOL-HTTP2.md", () => {
  const expected: [number, StatusCode][] = [
    [constants.NGHTTP2_NO_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_PROTOCOL_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_INTERNAL_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_FLOW_CONTROL_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_SETTINGS_TIMEOUT, StatusCode.INTERNAL],
    [constants.NGHTTP2_STREAM_CLOSED, StatusCode.INTERNAL],
    [constants.NGHTTP2_FRAME_SIZE_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_REFUSED_STREAM, StatusCode.UNAVAILABLE],
    [constants.NGHTTP2_CANCEL, StatusCode.CANCELLED],
    [constants.NGHTTP2_COMPRESSION_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_CONNECT_ERROR, StatusCode.INTERNAL],
    [constants.NGHTTP2_ENHANCE_YOUR_CALM, StatusCode.RESOURCE_EXHAUSTED],
    [constants.NGHTTP2_INADEQUATE_SECURITY, StatusCode.PERMISSION_DENIED],
    [constants.NGHTTP2_HTTP_1_1_REQUIRED, StatusCode.INTERNAL],
    [0xff, StatusCode.INTERNAL],
  ];
  for (const [h2, code] of expected) assert.is(http2ErrorCodeToStatus(h2), code, String(h2));
});

test("Http2ErrorCode matches node's constants, and names are readable", () => {
  assert.is(Http2ErrorCode.REFUSED_STREAM, constants.NGHTTP2_REFUSED_STREAM);
  assert.is(Http2ErrorCode.HTTP_1_1_REQUIRED, constants.NGHTTP2_HTTP_1_1_REQUIRED);
  assert.is(http2ErrorCodeName(8), "CANCEL");
  assert.is(http2ErrorCodeName(0xb), "ENHANCE_YOUR_CALM");
  assert.is(http2ErrorCodeName(0x2a), "0x2a");
});

test.run();
