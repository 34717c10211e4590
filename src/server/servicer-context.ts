import type { AuthContext } from "../credentials/index.js";
import type { EOF, GrpcStatus, Metadata, MetadataInit, StatusCode } from "../wire/index.js";

/**
 * What a handler knows and controls about its call (gRPC Python
 * `grpc.aio.ServicerContext`). `signal` aborts when the client cancels, the
 * deadline passes or the server stops; its reason is an `RpcError`.
 */
export interface ServicerContext<Req = unknown, Res = unknown> {
  readonly signal: AbortSignal;
  /** The call's deadline in epoch milliseconds, if the client set one. */
  readonly deadline: number | undefined;
  /** Seconds left before the deadline, or undefined (gRPC Python `time_remaining()`). */
  timeRemaining(): number | undefined;
  /** The client's metadata (gRPC Python `invocation_metadata()`). */
  invocationMetadata(): Metadata;
  /** The full method path, "/package.Service/Method". */
  method(): string;
  /** The client's address, e.g. "ipv4:127.0.0.1:5555" (gRPC Python `peer()`). */
  peer(): string;
  /**
   * What the server verified about the connection (gRPC Python `auth_context()`):
   * `transport_security_type` (`ssl`, `local`, `insecure`), and under mutual TLS the
   * verified client certificate's names (see `AuthContext`).
   */
  authContext(): AuthContext;
  /**
   * The authenticated peer's identities (gRPC Python `peer_identities()`): the client
   * certificate's SANs, else its common name; undefined if the peer was not authenticated.
   */
  peerIdentities(): Buffer[] | undefined;
  /** The auth-context key `peerIdentities()` comes from (gRPC Python `peer_identity_key()`). */
  peerIdentityKey(): string | undefined;
  /** Sends the response headers now, with this metadata (gRPC Python `send_initial_metadata()`). */
  sendInitialMetadata(metadata: MetadataInit): Promise<void>;
  /** Metadata for the trailers, sent with the status (gRPC Python `set_trailing_metadata()`). */
  setTrailingMetadata(metadata: MetadataInit): void;
  /** The status to end with when the handler returns (gRPC Python `set_code()`). */
  setCode(code: StatusCode): void;
  /** The status details to end with (gRPC Python `set_details()`). */
  setDetails(details: string): void;
  /** The code set so far (gRPC Python `code()`). */
  code(): StatusCode | undefined;
  /** The details set so far (gRPC Python `details()`). */
  details(): string | undefined;
  /** Ends the call with this status by throwing (gRPC Python `abort()`). */
  abort(code: StatusCode, details?: string, trailingMetadata?: MetadataInit): never;
  /**
   * Ends the call with `status`, its trailing metadata replacing any set before, by
   * throwing (gRPC Python `abort_with_status()`). `async-grpc/status`'s `toStatus()`
   * makes one from a rich `google.rpc.Status`.
   */
  abortWithStatus(status: GrpcStatus): never;
  /** True once the client cancelled or the deadline passed (gRPC Python `cancelled()`). */
  cancelled(): boolean;
  /** True once the call has ended (gRPC Python `done()`). */
  done(): boolean;
  /** True while the call is going on: not ended, cancelled or past its deadline (gRPC Python `RpcContext.is_active()`). */
  isActive(): boolean;
  /**
   * Runs `callback` when the call ends; false (and it never runs) if the call has already
   * ended (gRPC Python `RpcContext.add_callback()`).
   */
  addCallback(callback: () => void): boolean;
  /** Runs `callback` when the call ends (gRPC Python `add_done_callback()`). */
  addDoneCallback(callback: (context: ServicerContext<Req, Res>) => void): void;
  /** Compresses responses with this algorithm if the client accepts it (gRPC Python `set_compression()`). */
  setCompression(algorithm: string): void;
  /** Sends the next response uncompressed (gRPC Python `disable_next_message_compression()`). */
  disableNextMessageCompression(): void;
  /**
   * Whether the last request read (the request, for unary-request methods) arrived
   * compressed on the wire. Experimental: for conformance checks and debugging.
   */
  requestCompressed(): boolean;
  /** Reads the next request of a streaming call, or `EOF` (gRPC Python `read()`). */
  read(): Promise<Req | EOF>;
  /** Sends a response of a streaming call (gRPC Python `write()`). */
  write(response: Res): Promise<void>;
}
