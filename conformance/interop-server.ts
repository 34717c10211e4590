/**
 * The async-grpc interop server: grpc.testing.TestService with every server feature
 * of the gRPC repository's doc/interop-test-descriptions.md that the suite's cases
 * need (EmptyCall, UnaryCall, CacheableUnaryCall, StreamingInputCall,
 * StreamingOutputCall, FullDuplexCall, HalfDuplexCall, CompressedRequest,
 * CompressedResponse, Echo Status, Echo Metadata, interval_us). UnimplementedCall is
 * left out on purpose, so it answers UNIMPLEMENTED.
 *
 *   conformance/bin/interop-server [--port=PORT] [--use_tls[=BOOL]] [--host=ADDRESS]
 *
 * See conformance/README.md for the flags and the environment ($GRPC_TEST_SERVER_CERT,
 * $GRPC_TEST_SERVER_KEY).
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  createServer,
  RpcError,
  sslServerCredentials,
  StatusCode,
  type ServiceImplementation,
  type ServicerContext,
} from "../src/index.js";
import {
  PayloadSchema,
  PayloadType,
  type BoolValue,
  type ResponseParameters,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponseSchema,
} from "./gen/grpc/testing/messages_pb.js";
import { TestService } from "./gen/grpc/testing/test_pb.js";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { hostPort, parseServerFlags, type ServerConfig } from "./lib/flags.js";
import { readPem, serverCertFile, serverKeyFile, testCaFile } from "./lib/paths.js";
import { ECHO_INITIAL_KEY, ECHO_TRAILING_KEY, intervalMs, payload, requestedStatus } from "./lib/interop.js";

type Context = ServicerContext<unknown, unknown>;
type OutputResponse = MessageInitShape<typeof StreamingOutputCallResponseSchema>;

const GZIP = "gzip";

function isTrue(value: BoolValue | undefined): boolean {
  return value?.value === true;
}

/**
 * Echo Metadata: x-grpc-test-echo-trailing-bin goes back in the trailers, and
 * x-grpc-test-echo-initial back as initial metadata, sent now. Returns whether
 * initial metadata went out (after which the call's compression is fixed).
 */
async function echoMetadata(context: Context): Promise<boolean> {
  const metadata = context.invocationMetadata();
  const trailing = metadata.getAll(ECHO_TRAILING_KEY);
  if (trailing.length > 0) context.setTrailingMetadata({ [ECHO_TRAILING_KEY]: trailing });
  const initial = metadata.getAll(ECHO_INITIAL_KEY);
  if (initial.length === 0) return false;
  await context.sendInitialMetadata({ [ECHO_INITIAL_KEY]: initial });
  return true;
}

/** Echo Status: ends the call with the status the request asks for, if any. */
function echoStatus(request: Parameters<typeof requestedStatus>[0], context: Context): void {
  const status = requestedStatus(request);
  if (status) context.abort(status.code as StatusCode, status.message);
}

/** COMPRESSABLE is the only payload type there is; anything else is INVALID_ARGUMENT. */
function checkResponseType(type: PayloadType, context: Context): void {
  if (type !== PayloadType.COMPRESSABLE) context.abort(StatusCode.INVALID_ARGUMENT, `response_type ${type} is not supported`);
}

/** CompressedRequest: a request with expect_compressed=true must have arrived compressed. */
function checkExpectedCompression(expectCompressed: BoolValue | undefined, context: Context): void {
  if (isTrue(expectCompressed) && !context.requestCompressed()) {
    context.abort(StatusCode.INVALID_ARGUMENT, "expect_compressed is true but the request was not compressed");
  }
}

/**
 * Sends the responses a list of ResponseParameters asks for: sizes, interval_us, and
 * CompressedResponse per message. A call compresses (gzip) from the first
 * ResponseParameters that asks for it, provided nothing has been sent yet (the
 * encoding goes out with the response headers); each response that does not ask for
 * compression then goes out uncompressed.
 */
class Responder {
  private compressing = false;

  constructor(
    private readonly context: Context,
    private headersSent: boolean,
  ) {}

  /** Turns gzip on for the call if `params` asks for compression and it is still possible. */
  prepare(params: readonly ResponseParameters[]): void {
    if (this.headersSent || this.compressing || !params.some((p) => isTrue(p.compressed))) return;
    this.context.setCompression(GZIP);
    this.compressing = true;
  }

  async *responses(params: readonly ResponseParameters[]): AsyncGenerator<OutputResponse> {
    this.prepare(params);
    for (const p of params) {
      // interval_us: a sleep before each response, relative to the previous one.
      const ms = intervalMs(p);
      if (ms > 0) await sleep(ms, undefined, { signal: this.context.signal }).catch(() => undefined);
      if (this.context.cancelled() || this.context.done()) return;
      if (this.compressing && !isTrue(p.compressed)) this.context.disableNextMessageCompression();
      this.headersSent = true;
      yield { payload: payload(p.size) };
    }
  }
}

const testService: ServiceImplementation<typeof TestService> = {
  async emptyCall(_request, context) {
    await echoMetadata(context);
    return {};
  },

  async unaryCall(request, context) {
    // CompressedResponse; the encoding must be chosen before initial metadata goes out.
    if (request.responseCompressed !== undefined) context.setCompression(isTrue(request.responseCompressed) ? GZIP : "identity");
    await echoMetadata(context);
    echoStatus(request, context);
    checkResponseType(request.responseType, context);
    checkExpectedCompression(request.expectCompressed, context);
    // mtls_token (not from the descriptions): the verified client certificate's common name.
    const username = request.fillUsername ? (context.authContext()["x509_common_name"]?.[0]?.toString() ?? "") : "";
    return { payload: payload(request.responseSize), username };
  },

  async cacheableUnaryCall(_request, context) {
    await context.sendInitialMetadata({ "cache-control": "max-age=60, public" });
    const nowNs = process.hrtime.bigint() + BigInt(Date.now()) * 1_000_000n;
    const body = new TextEncoder().encode(nowNs.toString());
    return { payload: create(PayloadSchema, { type: PayloadType.COMPRESSABLE, body }) };
  },

  async *streamingOutputCall(request, context) {
    const responder = new Responder(context, false);
    responder.prepare(request.responseParameters);
    await echoMetadata(context);
    checkResponseType(request.responseType, context);
    yield* responder.responses(request.responseParameters);
    echoStatus(request, context);
  },

  async streamingInputCall(requests, context) {
    await echoMetadata(context);
    let total = 0;
    for await (const request of requests) {
      checkExpectedCompression(request.expectCompressed, context);
      total += request.payload?.body.length ?? 0;
    }
    return { aggregatedPayloadSize: total };
  },

  async *fullDuplexCall(requests, context) {
    const responder = new Responder(context, await echoMetadata(context));
    for await (const request of requests) {
      echoStatus(request, context);
      checkResponseType(request.responseType, context);
      yield* responder.responses(request.responseParameters);
    }
  },

  async *halfDuplexCall(requests, context) {
    const responder = new Responder(context, await echoMetadata(context));
    const buffered: StreamingOutputCallRequest[] = [];
    for await (const request of requests) buffered.push(request);
    for (const request of buffered) {
      echoStatus(request, context);
      checkResponseType(request.responseType, context);
      yield* responder.responses(request.responseParameters);
    }
  },
  // unimplementedCall is deliberately absent: the server answers it with UNIMPLEMENTED.
};

async function main(): Promise<void> {
  let config: ServerConfig;
  try {
    config = parseServerFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`usage error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const token = config.bearerToken;
  const server = createServer({
    interceptors:
      token === undefined
        ? []
        : [
            {
              async interceptService(continuation, details) {
                if (details.invocationMetadata.get("authorization") !== `Bearer ${token}`) {
                  throw new RpcError(StatusCode.UNAUTHENTICATED, "missing or wrong bearer token");
                }
                return continuation(details);
              },
            },
          ],
  });
  server.addService(TestService, testService);
  const address = hostPort(config.host, config.port);
  let port: number;
  try {
    port = config.useTls
      ? await server.addSecurePort(
          address,
          sslServerCredentials([
            {
              privateKey: readPem(serverKeyFile(), "server key"),
              certificateChain: readPem(serverCertFile(), "server certificate"),
            },
          ], config.requireClientAuth ? readPem(testCaFile(), "test CA") : undefined, config.requireClientAuth),
        )
      : await server.addInsecurePort(address);
    await server.start();
  } catch (err) {
    process.stderr.write(`async-grpc interop server: cannot listen on ${address}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `async-grpc interop server listening on ${hostPort(config.host, port)} (${config.useTls ? (config.requireClientAuth ? "mtls" : "tls") : "plaintext"})\n`,
  );
  const stop = () => {
    void server.stop(0).finally(() => process.exit(0));
    // A stuck connection must not keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await server.waitForTermination();
}

await main();
