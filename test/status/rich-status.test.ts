// Rich status between our own client and server: context.abortWithStatus(toStatus())
// on the server, fromError() / fromCall() on the client, the standard detail types,
// and the agreement checks of gRPC Python's rpc_status.from_call().
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, Metadata, RpcError, StatusCode, type Channel } from "../../src/index.js";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  fromCall,
  fromError,
  GRPC_DETAILS_METADATA_KEY,
  HelpSchema,
  LocalizedMessageSchema,
  RetryInfoSchema,
  StatusSchema,
  toRpcError,
  toStatus,
  unpackDetails,
  type BadRequest,
  type ErrorInfo,
  type RetryInfo,
} from "../../src/status/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("status: rich errors between our client and server");
let started: Started;
let channel: Channel;

function richStatus(code: StatusCode, message: string) {
  return create(StatusSchema, {
    code,
    message,
    details: [
      anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "QUOTA", domain: "example.com", metadata: { zone: "eu" } })),
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: "message", description: "too short", reason: "SHORT" }] })),
      anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: create(DurationSchema, { seconds: 2n, nanos: 5 }) })),
      anyPack(HelpSchema, create(HelpSchema, { links: [{ description: "docs", url: "https://example.com" }] })),
      anyPack(LocalizedMessageSchema, create(LocalizedMessageSchema, { locale: "fr-FR", message: "trop court" })),
    ],
  });
}

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async unary(request, context) {
        switch (request.message) {
          case "rich":
            return context.abortWithStatus(toStatus(richStatus(StatusCode.INVALID_ARGUMENT, "bad request ✓ 100%")));
          case "throw":
            throw toRpcError({ code: StatusCode.NOT_FOUND, message: "no such thing" });
          case "code-mismatch":
            return context.abort(StatusCode.INTERNAL, "m", { [GRPC_DETAILS_METADATA_KEY]: toBinary(StatusSchema, create(StatusSchema, { code: StatusCode.NOT_FOUND, message: "m" })) });
          case "message-mismatch":
            return context.abort(StatusCode.NOT_FOUND, "one", { [GRPC_DETAILS_METADATA_KEY]: toBinary(StatusSchema, create(StatusSchema, { code: StatusCode.NOT_FOUND, message: "other" })) });
          case "replaces":
            context.setTrailingMetadata({ "x-before": "gone" });
            return context.abortWithStatus({ code: StatusCode.ABORTED, details: "plain", trailingMetadata: new Metadata({ "x-after": "kept" }) });
          case "plain":
            return context.abort(StatusCode.UNAVAILABLE, "no rich status");
          default:
            return { message: request.message };
        }
      },
    }),
  );
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

test("abortWithStatus(toStatus()) reaches the client: code, message and every detail type", async () => {
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({ message: "rich" }), StatusCode.INVALID_ARGUMENT);
  assert.is(err.details, "bad request ✓ 100%");
  const status = fromError(err);
  assert.ok(status);
  assert.is(status.code, StatusCode.INVALID_ARGUMENT);
  assert.is(status.message, "bad request ✓ 100%");
  const details = unpackDetails(status);
  assert.equal(details.map((d) => d.$typeName), ["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo", "google.rpc.Help", "google.rpc.LocalizedMessage"]);
  const info = details[0] as ErrorInfo;
  assert.is(info.reason, "QUOTA");
  assert.equal(info.metadata, { zone: "eu" });
  assert.is((details[1] as BadRequest).fieldViolations[0]!.reason, "SHORT");
  assert.is((details[2] as RetryInfo).retryDelay!.seconds, 2n);
});

test("fromCall() reads the same status from the call object, after the call ended", async () => {
  const call = createClient(Echo, channel).unary({ message: "rich" });
  await call.then(
    () => assert.unreachable("should fail"),
    () => {},
  );
  const status = await fromCall(call);
  assert.ok(status);
  assert.is(status.details.length, 5);
});

test("a thrown toRpcError() carries the rich status too", async () => {
  const err = await expectStatus(createClient(Echo, channel).unary({ message: "throw" }), StatusCode.NOT_FOUND);
  const status = fromError(err);
  assert.is(status?.message, "no such thing");
  assert.is(status?.details.length, 0);
});

test("no grpc-status-details-bin: undefined, from an error and from a successful call", async () => {
  const err = await expectStatus(createClient(Echo, channel).unary({ message: "plain" }), StatusCode.UNAVAILABLE);
  assert.is(fromError(err), undefined);
  const call = createClient(Echo, channel).unary({ message: "fine" });
  await call;
  assert.is(await fromCall(call), undefined);
});

test("a code that disagrees with grpc-status is an error, as in gRPC Python", async () => {
  const err = await expectStatus(createClient(Echo, channel).unary({ message: "code-mismatch" }), StatusCode.INTERNAL);
  assert.throws(() => fromError(err), /Code in Status proto \(StatusCode.NOT_FOUND\) doesn't match status code \(StatusCode.INTERNAL\)/);
});

test("a message that disagrees with grpc-message is an error, as in gRPC Python", async () => {
  const call = createClient(Echo, channel).unary({ message: "message-mismatch" });
  await expectStatus(call, StatusCode.NOT_FOUND);
  await fromCall(call).then(
    () => assert.unreachable("should throw"),
    (e: Error) => assert.match(e.message, /Message in Status proto \(other\) doesn't match status details \(one\)/),
  );
});

test("abortWithStatus() replaces trailing metadata set before, as abort_with_status does", async () => {
  const err = await expectStatus(createClient(Echo, channel).unary({ message: "replaces" }), StatusCode.ABORTED);
  assert.is(err.details, "plain");
  assert.is(err.trailingMetadata.get("x-after"), "kept");
  assert.is(err.trailingMetadata.get("x-before"), undefined);
});

test("toStatus() refuses OK and numbers that are no status code; keeps the bytes exact", () => {
  assert.throws(() => toStatus({ code: StatusCode.OK }), /non-OK/);
  assert.throws(() => toStatus({ code: 17 }), /Invalid status code 17/);
  const status = richStatus(StatusCode.ABORTED, "x");
  const grpcStatus = toStatus(status);
  assert.is(grpcStatus.code, StatusCode.ABORTED);
  const md = new Metadata(grpcStatus.trailingMetadata);
  assert.equal(md.get(GRPC_DETAILS_METADATA_KEY), toBinary(StatusSchema, status));
});

test("corrupt grpc-status-details-bin bytes throw rather than pass as a status", () => {
  const err = new RpcError(StatusCode.INTERNAL, "x", { trailingMetadata: new Metadata({ [GRPC_DETAILS_METADATA_KEY]: new Uint8Array([0x0a, 0xff]) }) });
  assert.throws(() => fromError(err));
});

test.run();
