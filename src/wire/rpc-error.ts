import { BaseError } from "./errors.js";
import { Metadata } from "./metadata.js";
import { isStatusCode, StatusCode, statusCodeName } from "./status.js";

// Symbol.for, not Symbol(): two copies of this package (say, a dependency's and the
// app's) must still recognize each other's errors.
const RPC_ERROR_BRAND = Symbol.for("async-grpc.RpcError");

/** Optional parts of an `RpcError`. */
export interface RpcErrorOptions {
  initialMetadata?: Metadata;
  trailingMetadata?: Metadata;
  debugErrorString?: string;
  cause?: unknown;
}

/**
 * The status of a failed RPC, as an immutable snapshot (gRPC Python `grpc.RpcError` /
 * `grpc.aio.AioRpcError`). The one error a call fails with: cancellation is
 * `CANCELLED` and an expired deadline `DEADLINE_EXCEEDED`, not separate classes.
 * (Misuse of the API throws `UsageError`; both extend `BaseError`.)
 */
export class RpcError extends BaseError {
  static {
    // On the prototype rather than as an instance field, so that it is already in place
    // when V8 formats the stack header ("RpcError: NOT_FOUND: ...") inside super().
    Object.defineProperty(this.prototype, "name", { value: "RpcError", writable: true, configurable: true });
  }

  /** The status code (gRPC Python `code()`); a number outside 0..16 is stored as UNKNOWN. */
  readonly code: StatusCode;
  /** The status message (gRPC Python `details()`), "" when none. */
  readonly details: string;
  /** Headers received before the failure (gRPC Python `initial_metadata()`). */
  readonly initialMetadata: Metadata;
  /** Trailers received with the status (gRPC Python `trailing_metadata()`). */
  readonly trailingMetadata: Metadata;
  /** Implementation detail for debugging, never sent to the peer (gRPC Python `debug_error_string()`). */
  readonly debugErrorString: string | undefined;

  constructor(code: StatusCode, details = "", options?: RpcErrorOptions) {
    const c = isStatusCode(code) ? code : StatusCode.UNKNOWN;
    const name = statusCodeName(c);
    super(details === "" ? name : `${name}: ${details}`, options && "cause" in options ? { cause: options.cause } : undefined);
    this.code = c;
    this.details = details;
    this.initialMetadata = options?.initialMetadata ?? new Metadata();
    this.trailingMetadata = options?.trailingMetadata ?? new Metadata();
    this.debugErrorString = options?.debugErrorString;
  }

  /** Brand read by `Symbol.hasInstance`; lives on the prototype, so costs nothing per instance. */
  get [RPC_ERROR_BRAND](): true {
    return true;
  }

  /**
   * Structural `instanceof`: true for an `RpcError` from any copy of this package.
   * Subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== RpcError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as { [RPC_ERROR_BRAND]?: unknown })[RPC_ERROR_BRAND] === true;
  }

  /**
   * Normalizes anything thrown or used as an abort reason into an `RpcError`: an
   * `RpcError` is returned as is; an "AbortError" becomes CANCELLED and a
   * "TimeoutError" DEADLINE_EXCEEDED (what `AbortSignal.abort()` and
   * `AbortSignal.timeout()` use); any other error gets `fallbackCode`, its message as
   * details and itself as `cause`.
   */
  static from(reason: unknown, fallbackCode: StatusCode = StatusCode.UNKNOWN): RpcError {
    if (reason instanceof RpcError) return reason;
    if (typeof reason === "object" && reason !== null) {
      const { name, message } = reason as { name?: unknown; message?: unknown };
      const details = typeof message === "string" ? message : String(reason);
      if (name === "AbortError") return new RpcError(StatusCode.CANCELLED, details, { cause: reason });
      if (name === "TimeoutError") return new RpcError(StatusCode.DEADLINE_EXCEEDED, details, { cause: reason });
      return new RpcError(fallbackCode, details, { cause: reason });
    }
    if (reason === undefined) return new RpcError(fallbackCode);
    return new RpcError(fallbackCode, String(reason), { cause: reason });
  }
}
