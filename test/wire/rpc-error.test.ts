import { test } from "uvu";
import * as assert from "uvu/assert";
import { Metadata, RpcError, StatusCode } from "../../src/wire/index.js";

test("carries the status and an empty-metadata default", () => {
  const err = new RpcError(StatusCode.NOT_FOUND, "no such user");
  assert.ok(err instanceof Error);
  assert.ok(err instanceof RpcError);
  assert.is(err.name, "RpcError");
  assert.is(err.code, StatusCode.NOT_FOUND);
  assert.is(err.details, "no such user");
  assert.is(err.message, "NOT_FOUND: no such user");
  assert.ok(err.initialMetadata instanceof Metadata);
  assert.is(err.initialMetadata.size, 0);
  assert.is(err.trailingMetadata.size, 0);
  assert.is(err.debugErrorString, undefined);
  assert.ok(err.stack?.startsWith("RpcError: NOT_FOUND: no such user"), err.stack);
  assert.is(String(err), "RpcError: NOT_FOUND: no such user");
});

test("details default to empty and the message is then the code name", () => {
  const err = new RpcError(StatusCode.CANCELLED);
  assert.is(err.details, "");
  assert.is(err.message, "CANCELLED");
});

test("options are kept", () => {
  const initialMetadata = new Metadata().add("a", "1");
  const trailingMetadata = new Metadata().add("b", "2");
  const cause = new Error("root");
  const err = new RpcError(StatusCode.INTERNAL, "x", { initialMetadata, trailingMetadata, debugErrorString: "dbg", cause });
  assert.is(err.initialMetadata, initialMetadata);
  assert.is(err.trailingMetadata, trailingMetadata);
  assert.is(err.debugErrorString, "dbg");
  assert.is(err.cause, cause);
  assert.not.ok("cause" in new RpcError(StatusCode.INTERNAL, "x"));
});

test("a number that is not a status code becomes UNKNOWN", () => {
  assert.is(new RpcError(42 as StatusCode, "x").code, StatusCode.UNKNOWN);
});

test("from returns an RpcError as is", () => {
  const err = new RpcError(StatusCode.ABORTED, "a");
  assert.is(RpcError.from(err), err);
  assert.is(RpcError.from(err, StatusCode.INTERNAL), err);
});

test("from wraps other errors with the fallback code and keeps the cause", () => {
  const boom = new TypeError("boom");
  const err = RpcError.from(boom);
  assert.is(err.code, StatusCode.UNKNOWN);
  assert.is(err.details, "boom");
  assert.is(err.cause, boom);
  assert.is(RpcError.from(boom, StatusCode.INTERNAL).code, StatusCode.INTERNAL);
  const fromString = RpcError.from("plain reason", StatusCode.CANCELLED);
  assert.is(fromString.code, StatusCode.CANCELLED);
  assert.is(fromString.details, "plain reason");
  assert.is(RpcError.from(undefined).details, "");
});

test("from maps abort reasons: AbortError -> CANCELLED, TimeoutError -> DEADLINE_EXCEEDED", () => {
  const aborted = new AbortController();
  aborted.abort();
  const cancelled = RpcError.from(aborted.signal.reason);
  assert.is(cancelled.code, StatusCode.CANCELLED);
  assert.is(cancelled.cause, aborted.signal.reason);
  assert.is(RpcError.from(new DOMException("stop", "AbortError"), StatusCode.INTERNAL).code, StatusCode.CANCELLED);
  const timedOut = RpcError.from(new DOMException("The operation timed out.", "TimeoutError"));
  assert.is(timedOut.code, StatusCode.DEADLINE_EXCEEDED);
  assert.is(timedOut.details, "The operation timed out.");
});

test("instanceof is structural across package copies", () => {
  // What an RpcError from another copy of the package looks like: same brand, other class.
  const brand = Symbol.for("async-grpc.RpcError");
  class ForeignRpcError extends Error {
    get [brand](): true {
      return true;
    }
  }
  const foreign = new ForeignRpcError("x");
  assert.ok(foreign instanceof RpcError);
  assert.is(RpcError.from(foreign), foreign as unknown as RpcError);
  assert.not.ok(new Error("x") instanceof RpcError);
  assert.not.ok(RpcError[Symbol.hasInstance](null));
  assert.not.ok(({ code: 1 } as unknown) instanceof RpcError);
});

test("subclasses keep the ordinary instanceof", () => {
  class MyError extends RpcError {}
  const mine = new MyError(StatusCode.INTERNAL, "m");
  assert.ok(mine instanceof MyError);
  assert.ok(mine instanceof RpcError);
  assert.not.ok(new RpcError(StatusCode.INTERNAL) instanceof MyError);
});

test.run();
