// Rich status across implementations: a google.rpc.Status from our server read by
// grpc-js's and grpcio's clients, and theirs (grpc-js: metadata on the callback's error;
// grpcio: context.abort_with_status) read by ours with fromError().
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, StatusCode } from "../../src/index.js";
import {
  DebugInfoSchema,
  ErrorInfoSchema,
  fromError,
  GRPC_DETAILS_METADATA_KEY,
  PreconditionFailureSchema,
  StatusSchema,
  toStatus,
  unpackDetails,
  type ErrorInfo,
  type PreconditionFailure,
  type RetryInfo,
} from "../../src/status/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema, type EchoRequest, type EchoResponse } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer } from "../helpers.js";
import { runPython, startPythonServer } from "../peers/python.js";

const test = suite("status: rich errors across implementations");

const OUR_MESSAGE = "from async-grpc: dénied ✓";

async function withOurServer(body: (target: string) => Promise<void>): Promise<void> {
  const started = await startServer((server) =>
    server.addService(Echo, {
      unary(_request, context) {
        return context.abortWithStatus(
          toStatus({
            code: StatusCode.PERMISSION_DENIED,
            message: OUR_MESSAGE,
            details: [
              anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "TS_REASON", domain: "async-grpc.example", metadata: { a: "b" } })),
              anyPack(DebugInfoSchema, create(DebugInfoSchema, { stackEntries: ["one", "two"], detail: "dbg" })),
            ],
          }),
        );
      },
    }),
  );
  try {
    await body(started.target);
  } finally {
    await started.server.stop(null);
  }
}

const unaryDefinition = {
  unary: {
    path: "/testing.Echo/Unary",
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(EchoRequestSchema, b),
    responseSerialize: (m: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(EchoResponseSchema, b),
  },
} satisfies grpc.ServiceDefinition;

test("grpc-js client reads our rich status from grpc-status-details-bin", async () => {
  await withOurServer(async (target) => {
    const Client = grpc.makeGenericClientConstructor(unaryDefinition, "Echo");
    const client = new Client(target, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
        client.makeUnaryRequest("/testing.Echo/Unary", unaryDefinition.unary.requestSerialize, unaryDefinition.unary.responseDeserialize, create(EchoRequestSchema), (e) =>
          e ? resolve(e) : reject(new Error("the call succeeded")),
        ),
      );
      assert.is(err.code, grpc.status.PERMISSION_DENIED);
      assert.is(err.details, OUR_MESSAGE);
      const [bytes] = err.metadata.get(GRPC_DETAILS_METADATA_KEY);
      assert.ok(bytes instanceof Buffer, "grpc-status-details-bin arrives as bytes");
      const status = fromBinary(StatusSchema, bytes);
      assert.is(status.code, StatusCode.PERMISSION_DENIED);
      assert.is(status.message, OUR_MESSAGE);
      const info = anyUnpack(status.details[0]!, ErrorInfoSchema);
      assert.is(info?.reason, "TS_REASON");
      assert.equal(anyUnpack(status.details[1]!, DebugInfoSchema)?.stackEntries, ["one", "two"]);
    } finally {
      client.close();
    }
  });
});

test("our client reads a grpc-js server's rich status", async () => {
  const server = new grpc.Server();
  const rich = create(StatusSchema, {
    code: StatusCode.RESOURCE_EXHAUSTED,
    message: "from grpc-js ✓",
    details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "JS_REASON", domain: "grpc-js.example" }))],
  });
  server.addService(unaryDefinition, {
    unary: (_call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      const metadata = new grpc.Metadata();
      metadata.set(GRPC_DETAILS_METADATA_KEY, Buffer.from(toBinary(StatusSchema, rich)));
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: "from grpc-js ✓", metadata });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    const err = await expectStatus(createClient(Echo, channel).unary({}), StatusCode.RESOURCE_EXHAUSTED);
    const status = fromError(err);
    assert.ok(status);
    assert.is(status.message, "from grpc-js ✓");
    assert.is((unpackDetails(status)[0] as ErrorInfo).reason, "JS_REASON");
  } finally {
    await channel.close();
    server.forceShutdown();
  }
});

test("grpcio client reads our rich status (as rpc_status.from_call does)", async () => {
  await withOurServer(async (target) => {
    const out = JSON.parse(await runPython("rich_status_peer.py", ["client", target])) as {
      code: string;
      details: string;
      status?: { code: number; message: string; details: { type: string; text: string }[] };
    };
    assert.is(out.code, "PERMISSION_DENIED");
    assert.is(out.details, OUR_MESSAGE);
    assert.ok(out.status, "grpcio saw grpc-status-details-bin");
    assert.is(out.status.code, StatusCode.PERMISSION_DENIED);
    assert.is(out.status.message, OUR_MESSAGE);
    assert.equal(out.status.details.map((d) => d.type), ["google.rpc.ErrorInfo", "google.rpc.DebugInfo"]);
    assert.match(out.status.details[0]!.text, /reason: "TS_REASON"/);
    assert.match(out.status.details[1]!.text, /stack_entries: "two"/);
  });
});

test("our client reads a grpcio server's abort_with_status()", async () => {
  const peer = await startPythonServer("rich_status_peer.py", ["server"]);
  const channel = insecureChannel(`127.0.0.1:${peer.port}`);
  try {
    const err = await expectStatus(createClient(Echo, channel).unary({}), StatusCode.FAILED_PRECONDITION);
    assert.is(err.details, "from grpcio: précondition ✓");
    const status = fromError(err);
    assert.ok(status);
    const [info, failure, retry] = unpackDetails(status) as [ErrorInfo, PreconditionFailure, RetryInfo];
    assert.is(info.reason, "PY_REASON");
    assert.equal(info.metadata, { k: "v" });
    assert.is(failure.violations[0]!.subject, "python");
    assert.is(retry.retryDelay?.seconds, 3n);
    assert.is(retry.retryDelay?.nanos, 500);
    assert.is(failure.$typeName, PreconditionFailureSchema.typeName);
  } finally {
    await channel.close();
    await peer.stop();
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
