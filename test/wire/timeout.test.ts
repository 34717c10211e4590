import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeTimeout, parseTimeout } from "../../src/wire/index.js";

test("encodes in the finest unit that fits in 8 digits", () => {
  assert.is(encodeTimeout(0.000001), "1n");
  assert.is(encodeTimeout(0.5), "500000n");
  assert.is(encodeTimeout(1), "1000000n");
  assert.is(encodeTimeout(99.999999), "99999999n");
  assert.is(encodeTimeout(100), "100000u");
  assert.is(encodeTimeout(1500), "1500000u");
  assert.is(encodeTimeout(99_999.999), "99999999u");
  assert.is(encodeTimeout(100_000), "100000m");
  assert.is(encodeTimeout(99_999_999), "99999999m");
  assert.is(encodeTimeout(100_000_000), "100000S");
  assert.is(encodeTimeout(99_999_999_000), "99999999S");
  assert.is(encodeTimeout(100_000_000_000), "1666667M");
  assert.is(encodeTimeout(99_999_999 * 60_000), "99999999M");
  assert.is(encodeTimeout(99_999_999 * 60_000 + 1), "1666667H");
});

test("rounds up, never shortening the deadline, but ignores float noise", () => {
  assert.is(encodeTimeout(0.0000001), "1n");
  assert.is(encodeTimeout(100_000.5), "100001m");
  assert.is(encodeTimeout(0.1 + 0.2), "300000n");
  assert.is(encodeTimeout(100_000_001), "100001S");
});

test("non-positive timeouts encode as already expired", () => {
  assert.is(encodeTimeout(0), "1n");
  assert.is(encodeTimeout(-5), "1n");
  assert.is(encodeTimeout(-Infinity), "1n");
});

test("enormous timeouts are capped at 99999999H", () => {
  assert.is(encodeTimeout(1e20), "99999999H");
});

test("Infinity and NaN throw RangeError", () => {
  assert.throws(() => encodeTimeout(Infinity), (e: unknown) => e instanceof RangeError);
  assert.throws(() => encodeTimeout(NaN), (e: unknown) => e instanceof RangeError);
});

test("parses every unit into milliseconds", () => {
  assert.is(parseTimeout("2H"), 7_200_000);
  assert.is(parseTimeout("3M"), 180_000);
  assert.is(parseTimeout("1S"), 1000);
  assert.is(parseTimeout("250m"), 250);
  assert.is(parseTimeout("1500000u"), 1500);
  assert.is(parseTimeout("1500u"), 1.5);
  assert.is(parseTimeout("1n"), 0.000001);
  assert.is(parseTimeout("0m"), 0);
  assert.is(parseTimeout("99999999H"), 99_999_999 * 3_600_000);
});

test("8 digits is the limit", () => {
  assert.is(parseTimeout("12345678m"), 12_345_678);
  assert.is(parseTimeout("123456789m"), undefined);
  assert.is(parseTimeout("000000001S"), undefined);
});

test("invalid values parse as undefined", () => {
  for (const v of ["", "m", "10", "10x", "10 m", " 10m", "10m ", "-1m", "+1m", "1.5S", "1e3m", "0x10m", "10h", "10s", "10ms", "10N"]) {
    assert.is(parseTimeout(v), undefined, JSON.stringify(v));
  }
});

test("encode then parse keeps the value (to within the unit)", () => {
  let seed = 7;
  for (let i = 0; i < 500; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const ms = (seed / 2 ** 31) * 10 ** ((i % 12) - 3);
    if (ms <= 0) continue;
    const back = parseTimeout(encodeTimeout(ms));
    assert.ok(back !== undefined);
    assert.ok(back! >= ms - (ms * 1e-9 + 1e-12), `${ms} -> ${encodeTimeout(ms)} -> ${back}`);
    // The chosen unit leaves at least 6 significant digits, or is 1 ns.
    assert.ok(back! - ms <= Math.max(ms * 1.0001e-5, 1e-6), `${ms} -> ${encodeTimeout(ms)} -> ${back}`);
  }
});

test.run();
