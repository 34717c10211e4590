import { createRegistry, type Message, type Registry } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  BadRequestSchema,
  DebugInfoSchema,
  ErrorInfoSchema,
  HelpSchema,
  LocalizedMessageSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "./gen/google/rpc/error_details_pb.js";
import type { Status } from "./gen/google/rpc/status_pb.js";

/** The standard detail types of `google/rpc/error_details.proto`, to unpack `Status.details` with. */
export const errorDetailsRegistry: Registry = createRegistry(
  ErrorInfoSchema,
  RetryInfoSchema,
  DebugInfoSchema,
  QuotaFailureSchema,
  PreconditionFailureSchema,
  BadRequestSchema,
  RequestInfoSchema,
  ResourceInfoSchema,
  HelpSchema,
  LocalizedMessageSchema,
);

/**
 * The details of a rich status as messages, in order. A detail whose type the
 * registry does not know is left out (it stays in `status.details` as an `Any`); pass
 * a registry that adds your own types to read those too.
 */
export function unpackDetails(status: Status, registry: Registry = errorDetailsRegistry): Message[] {
  const out: Message[] = [];
  for (const any of status.details) {
    const message = anyUnpack(any, registry);
    if (message !== undefined) out.push(message);
  }
  return out;
}
