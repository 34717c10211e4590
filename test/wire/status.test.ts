import { test } from "uvu";
import * as assert from "uvu/assert";
import { isStatusCode, parseStatusCode, StatusCode, statusCodeName } from "../../src/wire/index.js";

const NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

test("every status code has the gRPC number and name", () => {
  NAMES.forEach((name, code) => {
    assert.is((StatusCode as unknown as Record<string, number>)[name], code, name);
    assert.is(statusCodeName(code), name);
    assert.ok(isStatusCode(code));
  });
  assert.is(StatusCode.NOT_FOUND, 5);
  assert.is(StatusCode.UNAUTHENTICATED, 16);
});

test("statusCodeName of a number that is not a code is UNKNOWN", () => {
  for (const n of [-1, 17, 1.5, NaN, 1000]) {
    assert.is(statusCodeName(n), "UNKNOWN", String(n));
    assert.not.ok(isStatusCode(n));
  }
});

test("parseStatusCode reads every code written plainly", () => {
  for (let code = 0; code <= 16; code++) assert.is(parseStatusCode(String(code)), code);
  assert.is(parseStatusCode("05"), StatusCode.NOT_FOUND);
});

test("parseStatusCode maps numbers out of range to UNKNOWN", () => {
  assert.is(parseStatusCode("17"), StatusCode.UNKNOWN);
  assert.is(parseStatusCode("100"), StatusCode.UNKNOWN);
  assert.is(parseStatusCode("99999999999999999999999"), StatusCode.UNKNOWN);
});

test("parseStatusCode rejects garbage", () => {
  for (const v of [undefined, "", " 1", "1 ", "-1", "+1", "1.0", "0x1", "abc", "1a", "١"]) {
    assert.is(parseStatusCode(v), undefined, JSON.stringify(v));
  }
});

test.run();
