/**
 * The async-grpc interop client: runs one case of the gRPC repository's
 * doc/interop-test-descriptions.md (--test_case) against a grpc.testing.TestService
 * server, with the standard flags.
 *
 *   conformance/bin/interop-client --test_case=CASE [--server_host=HOST] [--server_port=PORT]
 *       [--use_tls[=BOOL]] [--use_test_ca[=BOOL]] [--server_host_override=NAME]
 *       [--soak_iterations=N] [--soak_max_failures=N] [--soak_num_threads=N] ... (lib/flags.ts)
 *
 * Exit codes: 0 PASS, 1 FAIL, 2 usage error (lib/interop.ts runClientMain). This
 * client performs every case, so it never skips. See conformance/README.md.
 */
import { create } from "@bufbuild/protobuf";
import {
  accessTokenCallCredentials,
  compositeChannelCredentials,
  createClient,
  EOF,
  insecureChannel,
  Metadata,
  RpcError,
  secureChannel,
  sslChannelCredentials,
  type Channel,
  type ChannelOptions,
  type Client,
} from "../src/index.js";
import {
  BoolValueSchema,
  PayloadType,
  SimpleRequestSchema,
  StreamingOutputCallRequestSchema,
  type SimpleRequest,
  type StreamingOutputCallRequest,
} from "./gen/grpc/testing/messages_pb.js";
import { TestService, UnimplementedService } from "./gen/grpc/testing/test_pb.js";
import type { CaseName } from "./lib/cases.js";
import { hostPort, parseClientFlags, type ClientConfig } from "./lib/flags.js";
import { clientCertFile, clientKeyFile, readPem, testCaFile } from "./lib/paths.js";
import {
  CANCEL_AFTER_FIRST_RESPONSE_SIZES,
  CLIENT_COMPRESSED_STREAMING_SIZES,
  CLIENT_COMPRESSED_STREAMING_TOTAL,
  CLIENT_STREAMING_SIZES,
  CLIENT_STREAMING_TOTAL,
  CheckFailed,
  Code,
  ECHO_INITIAL_KEY,
  ECHO_INITIAL_VALUE,
  ECHO_TRAILING_KEY,
  ECHO_TRAILING_VALUE,
  LARGE_REQUEST_SIZE,
  LARGE_RESPONSE_SIZE,
  PING_PONG_SIZES,
  SERVER_COMPRESSED_STREAMING,
  SERVER_STREAMING_SIZES,
  SPECIAL_STATUS_MESSAGE,
  STATUS_CODE,
  STATUS_MESSAGE,
  TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD,
  TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_MS,
  TEST_CLIENT_COMMON_NAME,
  check,
  checkBytes,
  checkEqual,
  checkPayload,
  checkStatus,
  codeName,
  payload,
  runClientMain,
  largeUnaryRequests,
} from "./lib/interop.js";
import {
  UNKNOWN_PEER,
  runConcurrentLargeUnary,
  runLongLivedChannel,
  runSoak,
  type LargeUnaryChannel,
  type UnaryCallSpec,
} from "./lib/soak.js";

// ---------------------------------------------------------------------------
// Channels and stubs

class Stubs {
  readonly channel: Channel;
  readonly testService: Client<typeof TestService>;

  constructor(readonly config: ClientConfig) {
    const target = hostPort(config.serverHost, config.serverPort);
    const override = config.serverHostOverride;
    // --server_host_override: the name claimed in the :authority header and, with TLS,
    // the name the server's certificate must match.
    const options: ChannelOptions =
      override === undefined
        ? {}
        : { "grpc.default_authority": override, ...(config.useTls ? { "grpc.ssl_target_name_override": override } : {}) };
    if (config.useTls) {
      const ca = config.useTestCa ? readPem(testCaFile(), "test CA") : undefined;
      let credentials = config.useClientCert
        ? sslChannelCredentials(ca, readPem(clientKeyFile(), "client key"), readPem(clientCertFile(), "client certificate"))
        : sslChannelCredentials(ca);
      if (config.bearerToken !== undefined) credentials = compositeChannelCredentials(credentials, accessTokenCallCredentials(config.bearerToken));
      this.channel = secureChannel(target, credentials, { options });
    } else {
      this.channel = insecureChannel(target, { options });
    }
    this.testService = createClient(TestService, this.channel);
  }

  unimplementedService(): Client<typeof UnimplementedService> {
    return createClient(UnimplementedService, this.channel);
  }

  close(): Promise<void> {
    return this.channel.close();
  }

  /** This channel for the large_unary-based cases (lib/soak.ts); closing it is left to the owner. */
  largeUnaryChannel(): LargeUnaryChannel {
    return largeUnaryChannel(this, async () => {});
  }

  /** A new channel, with the same flags, for channel_soak. */
  newLargeUnaryChannel(): LargeUnaryChannel {
    const stubs = new Stubs(this.config);
    return largeUnaryChannel(stubs, () => stubs.close());
  }

  serverUri(): string {
    return hostPort(this.config.serverHost, this.config.serverPort);
  }
}

/**
 * One UnaryCall per unaryCall(), on `stubs`' channel. Requests are kept by size: the
 * concurrent case sends one request object a thousand times. Our client API has no
 * peer address for a call, so the soak log says UNKNOWN_PEER.
 */
function largeUnaryChannel(stubs: Stubs, close: () => Promise<void>): LargeUnaryChannel {
  const requestOfSize = largeUnaryRequests();
  return {
    async unaryCall({ requestSize, responseSize, deadline }: UnaryCallSpec): Promise<string> {
      const request = requestOfSize(requestSize, responseSize);
      const response = await stubs.testService.unaryCall(request, deadline === undefined ? {} : { deadline });
      checkPayload(response.payload, responseSize, "UnaryCall response");
      return UNKNOWN_PEER;
    },
    close,
  };
}

// ---------------------------------------------------------------------------
// Helpers

/** The error a call that must fail ends with. */
async function failure(call: PromiseLike<unknown>, what: string): Promise<RpcError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new CheckFailed(`${what}: succeeded, expected it to fail`);
}

/** The response of a call that must succeed; a failure becomes a check failure that says why. */
async function succeeded<T>(call: PromiseLike<T>, what: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw asCheckFailure(err, what);
  }
}

/** The next message of a response stream (EOF at its end); a failure becomes a check failure. */
async function readNext<T>(call: { read(): Promise<T | typeof EOF> }, what: string): Promise<T | typeof EOF> {
  try {
    return await call.read();
  } catch (err) {
    throw asCheckFailure(err, what);
  }
}

function asCheckFailure(err: unknown, what: string): unknown {
  return err instanceof RpcError
    ? new CheckFailed(`${what}: call failed with ${codeName(err.code)}: ${JSON.stringify(err.details)}`)
    : err;
}

/** A write that may legitimately fail because the call has already ended (the status tells). */
async function writeIgnoringEnd(call: { write(request: StreamingOutputCallRequest): Promise<void> }, request: StreamingOutputCallRequest): Promise<void> {
  try {
    await call.write(request);
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
  }
}

/** The large_unary request, optionally with expect_compressed / response_compressed set. */
function largeRequest(flags: { expectCompressed?: boolean; responseCompressed?: boolean } = {}): SimpleRequest {
  const request = create(SimpleRequestSchema, {
    responseSize: LARGE_RESPONSE_SIZE,
    payload: payload(LARGE_REQUEST_SIZE),
  });
  if (flags.expectCompressed !== undefined) request.expectCompressed = create(BoolValueSchema, { value: flags.expectCompressed });
  if (flags.responseCompressed !== undefined) request.responseCompressed = create(BoolValueSchema, { value: flags.responseCompressed });
  return request;
}

/** A StreamingOutputCallRequest asking for responses of `sizes`, carrying `requestSize` bytes. */
function streamingOutputRequest(sizes: readonly number[], requestSize?: number): StreamingOutputCallRequest {
  const request = create(StreamingOutputCallRequestSchema, {
    responseParameters: sizes.map((size) => ({ size })),
  });
  if (requestSize !== undefined) request.payload = payload(requestSize);
  return request;
}

function echoMetadata(): Metadata {
  return new Metadata([
    [ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE],
    [ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE],
  ]);
}

function checkEchoed(initial: Metadata, trailing: Metadata, what: string): void {
  checkEqual(initial.get(ECHO_INITIAL_KEY), ECHO_INITIAL_VALUE, `${what}: initial metadata ${ECHO_INITIAL_KEY}`);
  const value = trailing.get(ECHO_TRAILING_KEY);
  check(value === undefined || value instanceof Uint8Array, `${what}: trailing metadata ${ECHO_TRAILING_KEY} is not binary`);
  checkBytes(value, ECHO_TRAILING_VALUE, `${what}: trailing metadata ${ECHO_TRAILING_KEY}`);
}

// ---------------------------------------------------------------------------
// The cases

type Case = (stubs: Stubs) => Promise<void>;

const cases: Record<CaseName, Case> = {
  async mtls_token(stubs) {
    const { testService } = stubs;
    check(stubs.config.useClientCert && stubs.config.bearerToken !== undefined, "mtls_token needs --use_tls --use_client_cert --bearer_token");
    const response = await succeeded(testService.unaryCall({ fillUsername: true }), "UnaryCall with client certificate and token");
    check(response.username === TEST_CLIENT_COMMON_NAME, `UnaryCall: username ${JSON.stringify(response.username)}, expected ${JSON.stringify(TEST_CLIENT_COMMON_NAME)}`);
    const withoutToken = new Stubs({ ...stubs.config, bearerToken: undefined });
    try {
      const err = await failure(withoutToken.testService.unaryCall({ fillUsername: true }), "UnaryCall without the token");
      check(err.code === Code.UNAUTHENTICATED, `UnaryCall without the token: ${codeName(err.code)} (${err.details}), expected UNAUTHENTICATED`);
    } finally {
      await withoutToken.close();
    }
  },

  async empty_unary({ testService }) {
    const response = await succeeded(testService.emptyCall({}), "EmptyCall");
    check(response !== undefined && response !== null, "EmptyCall: response is null");
  },

  async large_unary({ testService }) {
    const response = await succeeded(testService.unaryCall(largeRequest()), "UnaryCall");
    checkPayload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall response");
  },

  async client_compressed_unary({ testService }) {
    // 1. The feature probe: uncompressed, yet expect_compressed=true.
    const probe = await failure(
      testService.unaryCall(largeRequest({ expectCompressed: true }), { compression: "identity" }),
      "probe (uncompressed, expect_compressed=true)",
    );
    checkStatus(probe, Code.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)");
    // 2. Compressed, expect_compressed=true.
    const compressed = await succeeded(
      testService.unaryCall(largeRequest({ expectCompressed: true }), { compression: "gzip" }),
      "compressed UnaryCall",
    );
    checkPayload(compressed.payload, LARGE_RESPONSE_SIZE, "compressed UnaryCall response");
    // 3. Uncompressed, expect_compressed=false.
    const uncompressed = await succeeded(
      testService.unaryCall(largeRequest({ expectCompressed: false }), { compression: "identity" }),
      "uncompressed UnaryCall",
    );
    checkPayload(uncompressed.payload, LARGE_RESPONSE_SIZE, "uncompressed UnaryCall response");
  },

  async server_compressed_unary({ testService }) {
    for (const wanted of [true, false]) {
      const what = `UnaryCall with response_compressed=${wanted}`;
      const call = testService.unaryCall(largeRequest({ responseCompressed: wanted }));
      const response = await succeeded(call, what);
      checkEqual(call.responseCompressed(), wanted, `${what}: compressed flag of the response`);
      checkPayload(response.payload, LARGE_RESPONSE_SIZE, `${what}: response`);
    }
  },

  async client_streaming({ testService }) {
    const call = testService.streamingInputCall();
    for (const size of CLIENT_STREAMING_SIZES) await call.write({ payload: payload(size) });
    await call.doneWriting();
    const response = await succeeded(call, "StreamingInputCall");
    checkEqual(response.aggregatedPayloadSize, CLIENT_STREAMING_TOTAL, "aggregated_payload_size");
  },

  async client_compressed_streaming({ testService }) {
    const [compressedSize, uncompressedSize] = CLIENT_COMPRESSED_STREAMING_SIZES;
    // 1. The feature probe: one uncompressed message with expect_compressed=true. The
    //    server may fail the call while the message is still being written.
    const probe = testService.streamingInputCall(undefined, { compression: "identity" });
    try {
      await probe.write({ expectCompressed: { value: true }, payload: payload(compressedSize) });
      await probe.doneWriting();
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
    }
    const probeError = await failure(probe, "probe (uncompressed, expect_compressed=true)");
    checkStatus(probeError, Code.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)");

    // 2. A gzip call: the first message compressed, 3. the second not; then half-close.
    const call = testService.streamingInputCall(undefined, { compression: "gzip" });
    await call.write({ expectCompressed: { value: true }, payload: payload(compressedSize) });
    await call.write({ expectCompressed: { value: false }, payload: payload(uncompressedSize) }, { compress: false });
    await call.doneWriting();
    const response = await succeeded(call, "StreamingInputCall");
    checkEqual(response.aggregatedPayloadSize, CLIENT_COMPRESSED_STREAMING_TOTAL, "aggregated_payload_size");
  },

  async server_streaming({ testService }) {
    const call = testService.streamingOutputCall(streamingOutputRequest(SERVER_STREAMING_SIZES));
    let count = 0;
    for (let m; (m = await readNext(call, "StreamingOutputCall")) !== EOF; count++) {
      check(count < SERVER_STREAMING_SIZES.length, `more than ${SERVER_STREAMING_SIZES.length} responses`);
      checkPayload(m.payload, SERVER_STREAMING_SIZES[count]!, `response ${count + 1}`);
    }
    checkEqual(count, SERVER_STREAMING_SIZES.length, "number of responses");
    checkStatus({ code: await call.code(), details: await call.details() }, Code.OK, "StreamingOutputCall");
  },

  async server_compressed_streaming({ testService }) {
    const call = testService.streamingOutputCall({
      responseType: PayloadType.COMPRESSABLE,
      responseParameters: SERVER_COMPRESSED_STREAMING.map(([size, compressed]) => ({ size, compressed: { value: compressed } })),
    });
    let count = 0;
    for (let m; (m = await readNext(call, "StreamingOutputCall")) !== EOF; count++) {
      check(count < SERVER_COMPRESSED_STREAMING.length, `more than ${SERVER_COMPRESSED_STREAMING.length} responses`);
      const [size, compressed] = SERVER_COMPRESSED_STREAMING[count]!;
      checkEqual(call.responseCompressed(), compressed, `response ${count + 1}: compressed flag`);
      checkPayload(m.payload, size, `response ${count + 1}`);
    }
    checkEqual(count, SERVER_COMPRESSED_STREAMING.length, "number of responses");
    checkStatus({ code: await call.code(), details: await call.details() }, Code.OK, "StreamingOutputCall");
  },

  async ping_pong({ testService }) {
    const call = testService.fullDuplexCall();
    for (const [i, [requestSize, responseSize]] of PING_PONG_SIZES.entries()) {
      await call.write(streamingOutputRequest([responseSize], requestSize));
      const response = await readNext(call, "FullDuplexCall");
      check(response !== EOF, `FullDuplexCall: stream ended before response ${i + 1}`);
      checkPayload(response.payload, responseSize, `response ${i + 1}`);
    }
    await call.doneWriting();
    check((await readNext(call, "FullDuplexCall")) === EOF, `FullDuplexCall: more than ${PING_PONG_SIZES.length} responses`);
    checkStatus({ code: await call.code(), details: await call.details() }, Code.OK, "FullDuplexCall");
  },

  async empty_stream({ testService }) {
    const call = testService.fullDuplexCall();
    await call.doneWriting();
    check((await readNext(call, "FullDuplexCall")) === EOF, "FullDuplexCall: got a response, expected none");
    checkStatus({ code: await call.code(), details: await call.details() }, Code.OK, "FullDuplexCall");
  },

  async timeout_on_sleeping_server({ testService }) {
    const call = testService.fullDuplexCall(undefined, { timeoutMs: TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_MS });
    // The deadline may pass before the message is even sent: the write may fail.
    await writeIgnoringEnd(call, create(StreamingOutputCallRequestSchema, { payload: payload(TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD) }));
    // The client waits (reading) until the call ends.
    const error = await failure(
      (async () => {
        while ((await call.read()) !== EOF);
      })(),
      "FullDuplexCall with a 1 ms timeout",
    );
    checkStatus(error, Code.DEADLINE_EXCEEDED, "FullDuplexCall with a 1 ms timeout");
  },

  async cancel_after_begin(stubs) {
    // Connect first, so the call's headers go out before it is cancelled.
    await stubs.channel.channelReady();
    const call = stubs.testService.streamingInputCall();
    call.cancel();
    const error = await failure(call, "StreamingInputCall cancelled after begin");
    checkStatus(error, Code.CANCELLED, "StreamingInputCall cancelled after begin");
  },

  async cancel_after_first_response({ testService }) {
    const [requestSize, responseSize] = CANCEL_AFTER_FIRST_RESPONSE_SIZES;
    const call = testService.fullDuplexCall();
    await call.write(streamingOutputRequest([responseSize], requestSize));
    const response = await readNext(call, "FullDuplexCall");
    check(response !== EOF, "FullDuplexCall: stream ended before the first response");
    checkPayload(response.payload, responseSize, "first response");
    call.cancel();
    checkStatus({ code: await call.code() }, Code.CANCELLED, "FullDuplexCall cancelled after the first response");
    const error = await failure(call.read(), "read() after cancel()");
    checkStatus(error, Code.CANCELLED, "read() after cancel()");
  },

  async status_code_and_message({ testService }) {
    const responseStatus = { code: STATUS_CODE, message: STATUS_MESSAGE };
    const unary = await failure(testService.unaryCall({ responseStatus }), "UnaryCall");
    checkStatus(unary, STATUS_CODE, "UnaryCall", STATUS_MESSAGE);

    const call = testService.fullDuplexCall();
    await writeIgnoringEnd(call, create(StreamingOutputCallRequestSchema, { responseStatus }));
    await call.doneWriting();
    const duplex = await failure(
      (async () => {
        while ((await call.read()) !== EOF);
      })(),
      "FullDuplexCall",
    );
    checkStatus(duplex, STATUS_CODE, "FullDuplexCall", STATUS_MESSAGE);
    checkStatus({ code: await call.code(), details: await call.details() }, STATUS_CODE, "FullDuplexCall code()", STATUS_MESSAGE);
  },

  async special_status_message({ testService }) {
    const responseStatus = { code: STATUS_CODE, message: SPECIAL_STATUS_MESSAGE };
    const unary = await failure(testService.unaryCall({ responseStatus }), "UnaryCall");
    checkStatus(unary, STATUS_CODE, "UnaryCall", SPECIAL_STATUS_MESSAGE);
  },

  async custom_metadata({ testService }) {
    // 1. UnaryCall with both keys.
    const unary = testService.unaryCall(largeRequest(), { metadata: echoMetadata() });
    const response = await succeeded(unary, "UnaryCall");
    checkPayload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall response");
    checkEchoed(await unary.initialMetadata(), await unary.trailingMetadata(), "UnaryCall");

    // 2. FullDuplexCall with both keys, one request, then half-close.
    const call = testService.fullDuplexCall(undefined, { metadata: echoMetadata() });
    await call.write(streamingOutputRequest([LARGE_RESPONSE_SIZE], LARGE_REQUEST_SIZE));
    await call.doneWriting();
    const first = await readNext(call, "FullDuplexCall");
    check(first !== EOF, "FullDuplexCall: no response");
    checkPayload(first.payload, LARGE_RESPONSE_SIZE, "FullDuplexCall response");
    check((await readNext(call, "FullDuplexCall")) === EOF, "FullDuplexCall: more than one response");
    checkStatus({ code: await call.code(), details: await call.details() }, Code.OK, "FullDuplexCall");
    checkEchoed(await call.initialMetadata(), await call.trailingMetadata(), "FullDuplexCall");
  },

  async unimplemented_method({ testService }) {
    const error = await failure(testService.unimplementedCall({}), "TestService/UnimplementedCall");
    checkStatus(error, Code.UNIMPLEMENTED, "TestService/UnimplementedCall");
  },

  async unimplemented_service(stubs) {
    const error = await failure(stubs.unimplementedService().unimplementedCall({}), "UnimplementedService/UnimplementedCall");
    checkStatus(error, Code.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall");
  },

  async rpc_soak(stubs) {
    await runSoak({
      config: stubs.config.soak,
      resetChannel: false,
      serverUri: stubs.serverUri(),
      openChannel: () => stubs.largeUnaryChannel(),
    });
  },

  async channel_soak(stubs) {
    await runSoak({
      config: stubs.config.soak,
      resetChannel: true,
      serverUri: stubs.serverUri(),
      openChannel: () => stubs.newLargeUnaryChannel(),
    });
  },

  async long_lived_channel(stubs) {
    await runLongLivedChannel(stubs.config.longLivedChannel, stubs.largeUnaryChannel());
  },

  async concurrent_large_unary(stubs) {
    await runConcurrentLargeUnary(stubs.largeUnaryChannel(), stubs.config.concurrentLargeUnaryCalls);
  },
};

await runClientMain(
  () => parseClientFlags(process.argv.slice(2)),
  async (config) => {
    // runClientMain exits once the case ends; if the event loop empties first, a call
    // was left waiting on nothing that keeps the process alive. Say so, instead of
    // Node's silent exit 13 (unsettled top-level await).
    process.once("beforeExit", () => {
      process.stderr.write(
        `FAIL: ${config.testCase}: the event loop emptied while the case was still waiting (no active handle kept the process alive)\n`,
      );
      process.exit(1);
    });
    const stubs = new Stubs(config);
    try {
      await cases[config.testCase](stubs);
    } finally {
      await stubs.close();
    }
  },
);
