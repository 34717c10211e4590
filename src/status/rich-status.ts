import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Metadata, RpcError, StatusCode, type GrpcStatus } from "async-grpc";
import { StatusSchema, type Status } from "./gen/google/rpc/status_pb.js";

/** The trailer that carries a serialized `google.rpc.Status` (gRPC Python `GRPC_DETAILS_METADATA_KEY`). */
export const GRPC_DETAILS_METADATA_KEY = "grpc-status-details-bin";

/** What `fromCall()` reads: any call object of this package, or anything shaped like one. */
export interface CallStatusSource {
  code(): StatusCode | PromiseLike<StatusCode>;
  details(): string | PromiseLike<string>;
  trailingMetadata(): Metadata | PromiseLike<Metadata>;
}

/**
 * The rich status of an ended call, or undefined if the server sent none (gRPC
 * Python `rpc_status.from_call()`, awaited as in `rpc_status.aio`). Throws if the
 * `google.rpc.Status` disagrees with the call's code or message, as gRPC Python does:
 * the trailer and the status must describe the same failure.
 */
export async function fromCall(call: CallStatusSource): Promise<Status | undefined> {
  const trailers = await call.trailingMetadata();
  const bytes = trailers.get(GRPC_DETAILS_METADATA_KEY);
  if (bytes === undefined) return undefined;
  return checked(bytes, await call.code(), await call.details());
}

/**
 * The rich status carried by an `RpcError` (a failed call's error), or undefined if
 * the server sent none. Throws on disagreement, like `fromCall()`.
 */
export function fromError(err: RpcError): Status | undefined {
  const bytes = err.trailingMetadata.get(GRPC_DETAILS_METADATA_KEY);
  if (bytes === undefined) return undefined;
  return checked(bytes, err.code, err.details);
}

/**
 * A `GrpcStatus` for `context.abortWithStatus()` from a `google.rpc.Status` (gRPC
 * Python `rpc_status.to_status()`): its code and message become the call's status and
 * the whole message the `grpc-status-details-bin` trailer. Throws for a code that is
 * not a gRPC status code, and for OK (a rich status describes a failure).
 */
export function toStatus(status: Status | MessageInitShape<typeof StatusSchema>): GrpcStatus {
  const message = create(StatusSchema, status);
  if (!isStatusCode(message.code)) throw new RangeError(`Invalid status code ${message.code}`);
  if (message.code === StatusCode.OK) throw new RangeError("A rich status needs a non-OK code");
  const trailingMetadata = new Metadata();
  trailingMetadata.set(GRPC_DETAILS_METADATA_KEY, toBinary(StatusSchema, message));
  return { code: message.code, details: message.message, trailingMetadata };
}

/**
 * An `RpcError` carrying `status`, for a handler to throw (or a client interceptor to
 * fail a call with). The same as `context.abortWithStatus(toStatus(status))`, where
 * no context is at hand.
 */
export function toRpcError(status: Status | MessageInitShape<typeof StatusSchema>): RpcError {
  const s = toStatus(status);
  return new RpcError(s.code, s.details, { trailingMetadata: new Metadata(s.trailingMetadata) });
}

function checked(bytes: string | Uint8Array, code: StatusCode, details: string): Status {
  // Metadata only holds bytes under a -bin key; the check is for the type system.
  if (typeof bytes === "string") throw new TypeError(`${GRPC_DETAILS_METADATA_KEY} holds text, not bytes`);
  const status = fromBinary(StatusSchema, bytes);
  if (status.code !== code) {
    throw new Error(`Code in Status proto (${codeName(status.code)}) doesn't match status code (${codeName(code)})`);
  }
  if (status.message !== details) {
    throw new Error(`Message in Status proto (${status.message}) doesn't match status details (${details})`);
  }
  return status;
}

function isStatusCode(code: number): code is StatusCode {
  return Number.isInteger(code) && code >= StatusCode.OK && code <= StatusCode.UNAUTHENTICATED;
}

function codeName(code: number): string {
  return isStatusCode(code) ? `StatusCode.${StatusCode[code]}` : String(code);
}
