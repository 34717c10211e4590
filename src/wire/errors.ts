// The error family of gRPC Python's grpc.aio: one base class for everything the library
// throws, RpcError for a call's status (rpc-error.ts), UsageError for a misuse of the
// API and InternalError for a broken invariant inside the library.

/** The base of every error the library throws on purpose (gRPC Python `grpc.aio.BaseError`). */
export class BaseError extends Error {
  static {
    Object.defineProperty(this.prototype, "name", { value: "BaseError", writable: true, configurable: true });
  }
}

/**
 * The API was used in a way it does not allow, e.g. reading a call with both `read()` and
 * iteration, or writing after `doneWriting()` (gRPC Python `grpc.aio.UsageError`). The
 * message says what to do instead.
 */
export class UsageError extends BaseError {
  static {
    Object.defineProperty(this.prototype, "name", { value: "UsageError", writable: true, configurable: true });
  }
}

/** A broken invariant inside the library: a bug to report (gRPC Python `grpc.aio.InternalError`). */
export class InternalError extends BaseError {
  static {
    Object.defineProperty(this.prototype, "name", { value: "InternalError", writable: true, configurable: true });
  }
}
