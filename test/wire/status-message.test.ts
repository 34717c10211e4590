import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeStatusMessage, encodeStatusMessage } from "../../src/wire/index.js";

test("safe strings pass through unchanged", () => {
  for (const s of ["", "hello world", "a ~!@#$^&*()_+{}|:\"<>?`-=[]\\;',./"]) {
    assert.is(encodeStatusMessage(s), s);
    assert.is(decodeStatusMessage(s), s);
  }
});

test("percent sign, control chars and non-ASCII are escaped in uppercase hex", () => {
  assert.is(encodeStatusMessage("100%"), "100%25");
  assert.is(encodeStatusMessage("a\nb\tc\x7f"), "a%0Ab%09c%7F");
  assert.is(encodeStatusMessage("é"), "%C3%A9");
  assert.is(encodeStatusMessage("😀"), "%F0%9F%98%80");
  assert.is(encodeStatusMessage("ünïcødé 😀"), "%C3%BCn%C3%AFc%C3%B8d%C3%A9 %F0%9F%98%80");
});

test("round trips", () => {
  const cases = ["ünïcødé 😀", "\x00\x01\x1f\x7f", "%", "%%25%", "50% off", "line1\r\nline2", "日本語のエラー", "plain"];
  for (const s of cases) {
    const encoded = encodeStatusMessage(s);
    for (let i = 0; i < encoded.length; i++) {
      const c = encoded.charCodeAt(i);
      assert.ok(c >= 0x20 && c <= 0x7e, `unsafe char in ${encoded}`);
    }
    assert.is(decodeStatusMessage(encoded), s);
  }
});

test("decoding accepts lowercase hex", () => {
  assert.is(decodeStatusMessage("%c3%a9t%C3%A9"), "été");
});

test("malformed percent sequences are kept as-is", () => {
  assert.is(decodeStatusMessage("100%"), "100%");
  assert.is(decodeStatusMessage("%4"), "%4");
  assert.is(decodeStatusMessage("%zz%41"), "%zzA");
  assert.is(decodeStatusMessage("%%41"), "%A");
  assert.is(decodeStatusMessage("a%2"), "a%2");
});

test("invalid UTF-8 becomes U+FFFD and never throws", () => {
  assert.is(decodeStatusMessage("%FF"), "\uFFFD");
  assert.is(decodeStatusMessage("ok %C3"), "ok \uFFFD");
  assert.is(decodeStatusMessage("%C3%28"), "\uFFFD(");
});

test("non-ASCII characters in a received value survive decoding", () => {
  assert.is(decodeStatusMessage("é%20x"), "é x");
});

test.run();
