/**
 * The @grpc/grpc-js interop client: the peer our server is tested against. It follows
 * the gRPC repository's doc/interop-test-descriptions.md, one --test_case per run.
 * See conformance/README.md for the flags, the environment and the exit codes.
 */
import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { EmptySchema, type Empty } from "../../gen/grpc/testing/empty_pb.js";
import {
  BoolValueSchema,
  PayloadType,
  SimpleRequestSchema,
  StreamingInputCallRequestSchema,
  StreamingOutputCallRequestSchema,
  type BoolValue,
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
} from "../../gen/grpc/testing/messages_pb.js";
import { TestService, UnimplementedService } from "../../gen/grpc/testing/test_pb.js";
import { parseClientFlags, hostPort, type ClientConfig } from "../../lib/flags.js";
import { clientCertFile, clientKeyFile, readPem, testCaFile } from "../../lib/paths.js";
import type { CaseName } from "../../lib/cases.js";
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
} from "../../lib/interop.js";
import {
  UNKNOWN_PEER,
  runConcurrentLargeUnary,
  runLongLivedChannel,
  runSoak,
  type LargeUnaryChannel,
  type UnaryCallSpec,
} from "../../lib/soak.js";
import { serviceDefinition } from "./service.js";

// ---------------------------------------------------------------------------
// The generic grpc-js client, typed for the methods the cases call

type UnaryCallback<O> = (error: grpc.ServiceError | null, response?: O) => void;
type UnaryMethod<I, O> = (
  request: I,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: UnaryCallback<O>,
) => grpc.ClientUnaryCall;
type ClientStreamingMethod<I, O> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: UnaryCallback<O>,
) => grpc.ClientWritableStream<I>;
type ServerStreamingMethod<I, O> = (
  request: I,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<O>;
type BidiStreamingMethod<I, O> = (metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientDuplexStream<I, O>;

interface TestServiceClient extends grpc.Client {
  emptyCall: UnaryMethod<Empty, Empty>;
  unaryCall: UnaryMethod<SimpleRequest, SimpleResponse>;
  streamingOutputCall: ServerStreamingMethod<StreamingOutputCallRequest, StreamingOutputCallResponse>;
  streamingInputCall: ClientStreamingMethod<StreamingInputCallRequest, StreamingInputCallResponse>;
  fullDuplexCall: BidiStreamingMethod<StreamingOutputCallRequest, StreamingOutputCallResponse>;
  unimplementedCall: UnaryMethod<Empty, Empty>;
}

interface UnimplementedServiceClient extends grpc.Client {
  unimplementedCall: UnaryMethod<Empty, Empty>;
}

const TestServiceClientConstructor = grpc.makeGenericClientConstructor(serviceDefinition(TestService), "TestService");
const UnimplementedServiceClientConstructor = grpc.makeGenericClientConstructor(
  serviceDefinition(UnimplementedService),
  "UnimplementedService",
);

/** grpc-js's values for the `grpc.default_compression_algorithm` channel option. */
const COMPRESSION_GZIP = 2;
/** grpc-js's per-message write flag that turns compression off for one message. */
const WRITE_FLAG_NO_COMPRESS = "2";

class Clients {
  private readonly open: grpc.Client[] = [];

  constructor(readonly config: ClientConfig) {}

  private target(): string {
    return hostPort(this.config.serverHost, this.config.serverPort);
  }

  private credentials(): grpc.ChannelCredentials {
    if (!this.config.useTls) return grpc.credentials.createInsecure();
    const ca = this.config.useTestCa ? readPem(testCaFile(), "test CA") : null;
    const ssl = this.config.useClientCert
      ? grpc.credentials.createSsl(ca, readPem(clientKeyFile(), "client key"), readPem(clientCertFile(), "client certificate"))
      : grpc.credentials.createSsl(ca);
    const token = this.config.bearerToken;
    if (token === undefined) return ssl;
    const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${token}`);
      callback(null, md);
    });
    return grpc.credentials.combineChannelCredentials(ssl, callCredentials);
  }

  private options(extra: grpc.ChannelOptions = {}): grpc.ChannelOptions {
    const override = this.config.serverHostOverride;
    const options: grpc.ChannelOptions = { ...extra };
    if (override !== undefined) {
      options["grpc.default_authority"] = override;
      if (this.config.useTls) options["grpc.ssl_target_name_override"] = override;
    }
    return options;
  }

  /** A TestService client; `gzip` makes every message it sends gzip-compressed by default. */
  testService(gzip = false): TestServiceClient {
    const client = this.newTestService(gzip);
    this.open.push(client);
    return client;
  }

  /** A TestService client on a channel of its own, that the caller closes. */
  newTestService(gzip = false): TestServiceClient {
    const extra: grpc.ChannelOptions = gzip ? { "grpc.default_compression_algorithm": COMPRESSION_GZIP } : {};
    const client = new TestServiceClientConstructor(this.target(), this.credentials(), this.options(extra));
    return client as unknown as TestServiceClient;
  }

  serverUri(): string {
    return this.target();
  }

  unimplementedService(): UnimplementedServiceClient {
    const client = new UnimplementedServiceClientConstructor(this.target(), this.credentials(), this.options());
    this.open.push(client);
    return client as unknown as UnimplementedServiceClient;
  }

  close(): void {
    for (const client of this.open) client.close();
  }
}

// ---------------------------------------------------------------------------
// Promise helpers over grpc-js's callbacks and events

interface UnaryOutcome<O> {
  response: O | undefined;
  status: grpc.StatusObject;
  initialMetadata: grpc.Metadata | undefined;
}

function unary<I, O>(
  client: grpc.Client,
  method: UnaryMethod<I, O>,
  request: I,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<UnaryOutcome<O>> {
  return new Promise((resolve) => {
    let response: O | undefined;
    let initialMetadata: grpc.Metadata | undefined;
    // grpc-js calls the callback first, then emits 'status' with the trailers.
    const call = method.call(client, request, metadata, options, (_error, value) => {
      response = value;
    });
    call.on("metadata", (md) => (initialMetadata = md));
    call.on("status", (status) => resolve({ response, status, initialMetadata }));
  });
}

/** The response of a call that must succeed. */
function ok<O>(outcome: { response: O | undefined; status: grpc.StatusObject }, what: string): O {
  checkSucceeded(outcome.status, what);
  check(outcome.response !== undefined, `${what}: no response message`);
  return outcome.response;
}

function checkSucceeded(status: grpc.StatusObject, what: string): void {
  if (status.code !== grpc.status.OK) {
    throw new CheckFailed(`${what}: call failed with ${codeName(status.code)}: ${JSON.stringify(status.details)}`);
  }
}

/** Resolves with the status of a streaming call; also keeps an unread 'error' from crashing us. */
/** What the streaming-call helpers need of a grpc-js call: its events. */
type CallEvents = EventEmitter;

function statusOf(call: CallEvents): Promise<grpc.StatusObject> {
  call.on("error", () => {});
  return new Promise((resolve) => call.on("status", resolve));
}

function initialMetadataOf(call: CallEvents): Promise<grpc.Metadata> {
  return new Promise((resolve) => call.on("metadata", resolve));
}

interface ClientStreamingOutcome<I, O> extends UnaryOutcome<O> {
  call: grpc.ClientWritableStream<I>;
}

/** Starts a client-streaming call; `done` resolves once its status is in. */
function clientStreaming<I, O>(
  client: grpc.Client,
  method: ClientStreamingMethod<I, O>,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): { call: grpc.ClientWritableStream<I>; done: Promise<ClientStreamingOutcome<I, O>> } {
  let response: O | undefined;
  let initialMetadata: grpc.Metadata | undefined;
  const call = method.call(client, metadata, options, (_error, value) => {
    response = value;
  });
  call.on("metadata", (md) => (initialMetadata = md));
  const done = new Promise<ClientStreamingOutcome<I, O>>((resolve) =>
    call.on("status", (status) => resolve({ call, response, status, initialMetadata })),
  );
  return { call, done };
}

function write<I>(call: grpc.ClientWritableStream<I>, message: I, flags?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const callback = (error?: Error | null) => (error ? reject(error) : resolve());
    if (flags === undefined) call.write(message, callback);
    // grpc-js reads a numeric "encoding" argument as the message's write flags.
    else call.write(message, flags as BufferEncoding, callback);
  });
}

/**
 * Pulls one message at a time from a response stream; undefined at the end. The
 * iterator must not destroy the stream when the responses end: for a duplex call
 * that would also tear down the request side.
 */
class Reader<O> {
  private readonly iterator: AsyncIterator<O>;
  constructor(stream: Readable) {
    this.iterator = stream.iterator({ destroyOnReturn: false });
  }
  async next(what: string): Promise<O | undefined> {
    try {
      const result = await this.iterator.next();
      return result.done ? undefined : result.value;
    } catch (error) {
      const e = error as Partial<grpc.ServiceError>;
      throw new CheckFailed(`${what}: stream failed with ${codeName(e.code)}: ${JSON.stringify(e.details ?? e.message)}`);
    }
  }
}

/** The large_unary request, optionally with expect_compressed / response_compressed set. */
function largeRequest(flags: { expectCompressed?: boolean; responseCompressed?: boolean } = {}): SimpleRequest {
  const request = create(SimpleRequestSchema, {
    responseType: PayloadType.COMPRESSABLE,
    responseSize: LARGE_RESPONSE_SIZE,
    payload: payload(LARGE_REQUEST_SIZE),
  });
  if (flags.expectCompressed !== undefined) request.expectCompressed = boolValue(flags.expectCompressed);
  if (flags.responseCompressed !== undefined) request.responseCompressed = boolValue(flags.responseCompressed);
  return request;
}

function boolValue(value: boolean): BoolValue {
  return create(BoolValueSchema, { value });
}

/** A StreamingOutputCallRequest asking for responses of `sizes`, carrying `requestSize` bytes. */
function streamingOutputRequest(sizes: readonly number[], requestSize?: number): StreamingOutputCallRequest {
  const request = create(StreamingOutputCallRequestSchema, {
    responseType: PayloadType.COMPRESSABLE,
    responseParameters: sizes.map((size) => ({ size })),
  });
  if (requestSize !== undefined) request.payload = payload(requestSize);
  return request;
}

/**
 * A TestService client as the large_unary-based cases (lib/soak.ts) use it. Requests
 * are kept by size: concurrent_large_unary sends one request object many times.
 */
function largeUnaryChannel(stub: TestServiceClient, close: () => void): LargeUnaryChannel {
  const requestOfSize = largeUnaryRequests();
  return {
    unaryCall({ requestSize, responseSize, deadline }: UnaryCallSpec): Promise<string> {
      const request = requestOfSize(requestSize, responseSize);
      const options: grpc.CallOptions = deadline === undefined ? {} : { deadline };
      return new Promise((resolve, reject) => {
        const call = stub.unaryCall(request, new grpc.Metadata(), options, (error, response) => {
          if (error) {
            reject(error);
            return;
          }
          try {
            checkPayload(response?.payload, responseSize, "UnaryCall response");
            resolve(call.getPeer() || UNKNOWN_PEER);
          } catch (err) {
            reject(err);
          }
        });
      });
    },
    close,
  };
}

// ---------------------------------------------------------------------------
// The cases

type Case = (clients: Clients) => Promise<void>;

const cases: Record<CaseName, Case> = {
  async mtls_token(clients) {
    check(clients.config.useClientCert && clients.config.bearerToken !== undefined, "mtls_token needs --use_tls --use_client_cert --bearer_token");
    const stub = clients.testService();
    const response = ok(await unary(stub, stub.unaryCall, create(SimpleRequestSchema, { fillUsername: true })), "UnaryCall with client certificate and token");
    check(response.username === TEST_CLIENT_COMMON_NAME, `UnaryCall: username ${JSON.stringify(response.username)}, expected ${JSON.stringify(TEST_CLIENT_COMMON_NAME)}`);
    const withoutToken = new Clients({ ...clients.config, bearerToken: undefined });
    try {
      const s = withoutToken.testService();
      const { status } = await unary(s, s.unaryCall, create(SimpleRequestSchema, { fillUsername: true }));
      check(status.code === Code.UNAUTHENTICATED, `UnaryCall without the token: ${codeName(status.code)} (${status.details}), expected UNAUTHENTICATED`);
    } finally {
      withoutToken.close();
    }
  },

  async empty_unary(clients) {
    const stub = clients.testService();
    const response = ok(await unary(stub, stub.emptyCall, create(EmptySchema)), "EmptyCall");
    check(response !== null, "EmptyCall: response is null");
  },

  async large_unary(clients) {
    const stub = clients.testService();
    const response = ok(await unary(stub, stub.unaryCall, largeRequest()), "UnaryCall");
    checkPayload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall response");
  },

  async client_compressed_unary(clients) {
    // grpc-js compresses per channel (`grpc.default_compression_algorithm`), so the
    // compressed call goes over its own channel and the uncompressed ones over another.
    const plain = clients.testService();
    const gzip = clients.testService(true);
    const probe = await unary(plain, plain.unaryCall, largeRequest({ expectCompressed: true }));
    checkStatus(probe.status, Code.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)");
    const compressed = ok(
      await unary(gzip, gzip.unaryCall, largeRequest({ expectCompressed: true })),
      "compressed UnaryCall",
    );
    checkPayload(compressed.payload, LARGE_RESPONSE_SIZE, "compressed UnaryCall response");
    const uncompressed = ok(
      await unary(plain, plain.unaryCall, largeRequest({ expectCompressed: false })),
      "uncompressed UnaryCall",
    );
    checkPayload(uncompressed.payload, LARGE_RESPONSE_SIZE, "uncompressed UnaryCall response");
  },

  async server_compressed_unary(clients) {
    // grpc-js does not expose the compressed flag of a received message, so this
    // client checks what it can: both calls succeed with the right payload.
    const stub = clients.testService();
    for (const value of [true, false]) {
      const what = `UnaryCall with response_compressed=${value}`;
      const response = ok(await unary(stub, stub.unaryCall, largeRequest({ responseCompressed: value })), what);
      checkPayload(response.payload, LARGE_RESPONSE_SIZE, `${what}: response`);
    }
  },

  async client_streaming(clients) {
    const stub = clients.testService();
    const { call, done } = clientStreaming(stub, stub.streamingInputCall);
    for (const size of CLIENT_STREAMING_SIZES) {
      await write(call, create(StreamingInputCallRequestSchema, { payload: payload(size) }));
    }
    call.end();
    const response = ok(await done, "StreamingInputCall");
    checkEqual(response.aggregatedPayloadSize, CLIENT_STREAMING_TOTAL, "aggregated_payload_size");
  },

  async client_compressed_streaming(clients) {
    const [compressedSize, uncompressedSize] = CLIENT_COMPRESSED_STREAMING_SIZES;
    const plain = clients.testService();
    const probe = clientStreaming(plain, plain.streamingInputCall);
    // The server may fail the call as soon as it sees the message; grpc-js then never
    // calls back the write, so only the status is awaited.
    probe.call.write(
      create(StreamingInputCallRequestSchema, { expectCompressed: boolValue(true), payload: payload(compressedSize) }),
    );
    probe.call.end();
    checkStatus((await probe.done).status, Code.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)");

    const gzip = clients.testService(true);
    const { call, done } = clientStreaming(gzip, gzip.streamingInputCall);
    await write(
      call,
      create(StreamingInputCallRequestSchema, { expectCompressed: boolValue(true), payload: payload(compressedSize) }),
    );
    await write(
      call,
      create(StreamingInputCallRequestSchema, { expectCompressed: boolValue(false), payload: payload(uncompressedSize) }),
      WRITE_FLAG_NO_COMPRESS,
    );
    call.end();
    const response = ok(await done, "StreamingInputCall");
    checkEqual(response.aggregatedPayloadSize, CLIENT_COMPRESSED_STREAMING_TOTAL, "aggregated_payload_size");
  },

  async server_streaming(clients) {
    const stub = clients.testService();
    const call = stub.streamingOutputCall(streamingOutputRequest(SERVER_STREAMING_SIZES), new grpc.Metadata(), {});
    const status = statusOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    let count = 0;
    for (let m; (m = await reader.next("StreamingOutputCall")); count++) {
      check(count < SERVER_STREAMING_SIZES.length, `more than ${SERVER_STREAMING_SIZES.length} responses`);
      checkPayload(m.payload, SERVER_STREAMING_SIZES[count]!, `response ${count + 1}`);
    }
    checkEqual(count, SERVER_STREAMING_SIZES.length, "number of responses");
    checkSucceeded(await status, "StreamingOutputCall");
  },

  async server_compressed_streaming(clients) {
    // As in server_compressed_unary, the compressed flag is not observable in grpc-js.
    const stub = clients.testService();
    const request = create(StreamingOutputCallRequestSchema, {
      responseType: PayloadType.COMPRESSABLE,
      responseParameters: SERVER_COMPRESSED_STREAMING.map(([size, compressed]) => ({
        size,
        compressed: { value: compressed },
      })),
    });
    const call = stub.streamingOutputCall(request, new grpc.Metadata(), {});
    const status = statusOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    let count = 0;
    for (let m; (m = await reader.next("StreamingOutputCall")); count++) {
      check(count < SERVER_COMPRESSED_STREAMING.length, `more than ${SERVER_COMPRESSED_STREAMING.length} responses`);
      checkPayload(m.payload, SERVER_COMPRESSED_STREAMING[count]![0], `response ${count + 1}`);
    }
    checkEqual(count, SERVER_COMPRESSED_STREAMING.length, "number of responses");
    checkSucceeded(await status, "StreamingOutputCall");
  },

  async ping_pong(clients) {
    const stub = clients.testService();
    const call = stub.fullDuplexCall(new grpc.Metadata(), {});
    const status = statusOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    for (const [i, [requestSize, responseSize]] of PING_PONG_SIZES.entries()) {
      await write(call, streamingOutputRequest([responseSize], requestSize));
      const response = await reader.next("FullDuplexCall");
      check(response !== undefined, `FullDuplexCall: stream ended before response ${i + 1}`);
      checkPayload(response.payload, responseSize, `response ${i + 1}`);
    }
    call.end();
    check((await reader.next("FullDuplexCall")) === undefined, "FullDuplexCall: more than 4 responses");
    checkSucceeded(await status, "FullDuplexCall");
  },

  async empty_stream(clients) {
    const stub = clients.testService();
    const call = stub.fullDuplexCall(new grpc.Metadata(), {});
    const status = statusOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    call.end();
    check((await reader.next("FullDuplexCall")) === undefined, "FullDuplexCall: got a response, expected none");
    checkSucceeded(await status, "FullDuplexCall");
  },

  async timeout_on_sleeping_server(clients) {
    const stub = clients.testService();
    const deadline = new Date(Date.now() + TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_MS);
    const call = stub.fullDuplexCall(new grpc.Metadata(), { deadline });
    const status = statusOf(call);
    call.on("data", () => {});
    // The deadline may pass before the message is sent, and then grpc-js never calls
    // back the write: do not wait for it, only for the status.
    call.write(create(StreamingOutputCallRequestSchema, { payload: payload(TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD) }));
    checkStatus(await status, Code.DEADLINE_EXCEEDED, "FullDuplexCall with a 1 ms timeout");
  },

  async cancel_after_begin(clients) {
    const stub = clients.testService();
    const { call, done } = clientStreaming(stub, stub.streamingInputCall);
    call.cancel();
    checkStatus((await done).status, Code.CANCELLED, "StreamingInputCall cancelled after begin");
  },

  async cancel_after_first_response(clients) {
    const [requestSize, responseSize] = CANCEL_AFTER_FIRST_RESPONSE_SIZES;
    const stub = clients.testService();
    const call = stub.fullDuplexCall(new grpc.Metadata(), {});
    const status = statusOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    await write(call, streamingOutputRequest([responseSize], requestSize));
    const response = await reader.next("FullDuplexCall");
    check(response !== undefined, "FullDuplexCall: stream ended before the first response");
    checkPayload(response.payload, responseSize, "first response");
    call.cancel();
    checkStatus(await status, Code.CANCELLED, "FullDuplexCall cancelled after the first response");
  },

  async status_code_and_message(clients) {
    const stub = clients.testService();
    const responseStatus = { code: STATUS_CODE, message: STATUS_MESSAGE };
    const u = await unary(stub, stub.unaryCall, create(SimpleRequestSchema, { responseStatus }));
    checkStatus(u.status, STATUS_CODE, "UnaryCall", STATUS_MESSAGE);

    const call = stub.fullDuplexCall(new grpc.Metadata(), {});
    const status = statusOf(call);
    call.on("data", () => {});
    call.write(create(StreamingOutputCallRequestSchema, { responseStatus }));
    call.end();
    checkStatus(await status, STATUS_CODE, "FullDuplexCall", STATUS_MESSAGE);
  },

  async special_status_message(clients) {
    const stub = clients.testService();
    const responseStatus = { code: STATUS_CODE, message: SPECIAL_STATUS_MESSAGE };
    const u = await unary(stub, stub.unaryCall, create(SimpleRequestSchema, { responseStatus }));
    checkStatus(u.status, STATUS_CODE, "UnaryCall", SPECIAL_STATUS_MESSAGE);
  },

  async custom_metadata(clients) {
    const stub = clients.testService();
    const metadata = () => {
      const md = new grpc.Metadata();
      md.set(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE);
      md.set(ECHO_TRAILING_KEY, Buffer.from(ECHO_TRAILING_VALUE));
      return md;
    };
    const checkEchoed = (initial: grpc.Metadata | undefined, trailing: grpc.Metadata, what: string) => {
      checkEqual(initial?.get(ECHO_INITIAL_KEY)[0], ECHO_INITIAL_VALUE, `${what}: initial metadata ${ECHO_INITIAL_KEY}`);
      checkBytes(
        trailing.get(ECHO_TRAILING_KEY)[0] as Buffer | undefined,
        ECHO_TRAILING_VALUE,
        `${what}: trailing metadata ${ECHO_TRAILING_KEY}`,
      );
    };

    const u = await unary(stub, stub.unaryCall, largeRequest(), metadata());
    checkPayload(ok(u, "UnaryCall").payload, LARGE_RESPONSE_SIZE, "UnaryCall response");
    checkEchoed(u.initialMetadata, u.status.metadata, "UnaryCall");

    const call = stub.fullDuplexCall(metadata(), {});
    const status = statusOf(call);
    const initial = initialMetadataOf(call);
    const reader = new Reader<StreamingOutputCallResponse>(call);
    await write(call, streamingOutputRequest([LARGE_RESPONSE_SIZE], LARGE_REQUEST_SIZE));
    call.end();
    const response = await reader.next("FullDuplexCall");
    check(response !== undefined, "FullDuplexCall: no response");
    checkPayload(response.payload, LARGE_RESPONSE_SIZE, "FullDuplexCall response");
    check((await reader.next("FullDuplexCall")) === undefined, "FullDuplexCall: more than one response");
    const s = await status;
    checkSucceeded(s, "FullDuplexCall");
    checkEchoed(await initial, s.metadata, "FullDuplexCall");
  },

  async unimplemented_method(clients) {
    const stub = clients.testService();
    const outcome = await unary(stub, stub.unimplementedCall, create(EmptySchema));
    checkStatus(outcome.status, Code.UNIMPLEMENTED, "TestService/UnimplementedCall");
  },

  async unimplemented_service(clients) {
    const stub = clients.unimplementedService();
    const outcome = await unary(stub, stub.unimplementedCall, create(EmptySchema));
    checkStatus(outcome.status, Code.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall");
  },

  async rpc_soak(clients) {
    const stub = clients.testService();
    await runSoak({
      config: clients.config.soak,
      resetChannel: false,
      serverUri: clients.serverUri(),
      openChannel: () => largeUnaryChannel(stub, () => {}),
    });
  },

  async channel_soak(clients) {
    await runSoak({
      config: clients.config.soak,
      resetChannel: true,
      serverUri: clients.serverUri(),
      openChannel: () => {
        const stub = clients.newTestService();
        return largeUnaryChannel(stub, () => stub.close());
      },
    });
  },

  async long_lived_channel(clients) {
    await runLongLivedChannel(clients.config.longLivedChannel, largeUnaryChannel(clients.testService(), () => {}));
  },

  async concurrent_large_unary(clients) {
    await runConcurrentLargeUnary(
      largeUnaryChannel(clients.testService(), () => {}),
      clients.config.concurrentLargeUnaryCalls,
    );
  },
};

await runClientMain(
  () => parseClientFlags(process.argv.slice(2)),
  async (config) => {
    const clients = new Clients(config);
    try {
      await cases[config.testCase](clients);
    } finally {
      clients.close();
    }
  },
);
