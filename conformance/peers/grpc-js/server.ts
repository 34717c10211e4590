/**
 * The @grpc/grpc-js interop server: the peer our client is tested against. It
 * implements the server features of the gRPC repository's
 * doc/interop-test-descriptions.md for grpc.testing.TestService, except two that
 * grpc-js's API cannot express (conformance/README.md, "What the peers cannot do"):
 * CompressedRequest (grpc-js hides whether a request was compressed) and
 * CompressedResponse (grpc-js never compresses what it sends from a server).
 */
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { EmptySchema, type Empty } from "../../gen/grpc/testing/empty_pb.js";
import {
  PayloadSchema,
  PayloadType,
  SimpleResponseSchema,
  StreamingInputCallResponseSchema,
  StreamingOutputCallResponseSchema,
  type ResponseParameters,
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
} from "../../gen/grpc/testing/messages_pb.js";
import { TestService } from "../../gen/grpc/testing/test_pb.js";
import { hostPort, parseServerFlags } from "../../lib/flags.js";
import { readPem, serverCertFile, serverKeyFile, testCaFile } from "../../lib/paths.js";
import {
  Code,
  ECHO_INITIAL_KEY,
  ECHO_TRAILING_KEY,
  intervalMs,
  payload,
  requestedStatus,
  sleepMs,
} from "../../lib/interop.js";
import { serviceDefinition } from "./service.js";

type Writable = grpc.ServerWritableStream<unknown, StreamingOutputCallResponse> | grpc.ServerDuplexStream<unknown, StreamingOutputCallResponse>;

/**
 * Echo Metadata: sends x-grpc-test-echo-initial back as initial metadata now and
 * returns the trailers to end the call with (x-grpc-test-echo-trailing-bin).
 */
function echoMetadata(call: { metadata: grpc.Metadata; sendMetadata(md: grpc.Metadata): void }): grpc.Metadata {
  const initial = call.metadata.get(ECHO_INITIAL_KEY);
  if (initial.length > 0) {
    const md = new grpc.Metadata();
    for (const value of initial) md.add(ECHO_INITIAL_KEY, value);
    call.sendMetadata(md);
  }
  const trailers = new grpc.Metadata();
  for (const value of call.metadata.get(ECHO_TRAILING_KEY)) trailers.add(ECHO_TRAILING_KEY, value);
  return trailers;
}

function statusError(code: number, details: string, metadata: grpc.Metadata): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata });
}

function unsupportedType(type: PayloadType, metadata: grpc.Metadata): grpc.ServerErrorResponse | undefined {
  return type === PayloadType.COMPRESSABLE
    ? undefined
    : statusError(Code.INVALID_ARGUMENT, `response_type ${type} is not supported`, metadata);
}

/** Writes and waits for room, so a slow reader pushes back instead of filling memory. */
async function send(call: Writable, message: StreamingOutputCallResponse): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
  });
}

/** Sends one response per ResponseParameters, observing interval_us; false if cancelled. */
async function sendResponses(call: Writable, params: readonly ResponseParameters[]): Promise<boolean> {
  for (const p of params) {
    await sleepMs(intervalMs(p));
    if (call.cancelled) return false;
    await send(call, create(StreamingOutputCallResponseSchema, { payload: payload(p.size) }));
  }
  return !call.cancelled;
}

/**
 * The messages of a request stream, ending early (without error) if the call is
 * cancelled. Node's default stream iterator destroys the stream when it finishes,
 * which for a duplex call would also destroy the writable side before the status is
 * sent; `destroyOnReturn: false` keeps it open.
 */
async function* requests<T>(call: grpc.ServerReadableStream<T, unknown> | grpc.ServerDuplexStream<T, unknown>): AsyncGenerator<T> {
  const cancelled = new Promise<undefined>((resolve) => call.once("cancelled", () => resolve(undefined)));
  const iterator: AsyncIterator<T> = call.iterator({ destroyOnReturn: false });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), cancelled]);
      if (next === undefined || next.done) return;
      yield next.value;
    }
  } catch {
    return;
  }
}

const handlers = {
  emptyCall(call: grpc.ServerUnaryCall<Empty, Empty>, callback: grpc.sendUnaryData<Empty>) {
    const trailers = echoMetadata(call);
    callback(null, create(EmptySchema), trailers);
  },

  unaryCall(call: grpc.ServerUnaryCall<SimpleRequest, SimpleResponse>, callback: grpc.sendUnaryData<SimpleResponse>) {
    const request = call.request;
    const trailers = echoMetadata(call);
    const status = requestedStatus(request);
    if (status) return callback(statusError(status.code, status.message, trailers));
    const error = unsupportedType(request.responseType, trailers);
    if (error) return callback(error);
    // expect_compressed / response_compressed: see the header comment.
    // mtls_token (not from the descriptions): the verified client certificate's common name.
    const cn = request.fillUsername ? call.getAuthContext().sslPeerCertificate?.subject?.CN : undefined;
    const username = typeof cn === "string" ? cn : "";
    callback(null, create(SimpleResponseSchema, { payload: payload(request.responseSize), username }), trailers);
  },

  cacheableUnaryCall(
    call: grpc.ServerUnaryCall<SimpleRequest, SimpleResponse>,
    callback: grpc.sendUnaryData<SimpleResponse>,
  ) {
    const md = new grpc.Metadata();
    md.set("cache-control", "max-age=60, public");
    call.sendMetadata(md);
    const now = process.hrtime.bigint() + BigInt(Date.now()) * 1_000_000n;
    const body = new TextEncoder().encode(now.toString());
    callback(null, create(SimpleResponseSchema, { payload: create(PayloadSchema, { type: PayloadType.COMPRESSABLE, body }) }));
  },

  async streamingOutputCall(call: grpc.ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const request = call.request;
    const trailers = echoMetadata(call);
    const error = unsupportedType(request.responseType, trailers);
    if (error) return void call.emit("error", error);
    if (!(await sendResponses(call, request.responseParameters))) return;
    const status = requestedStatus(request);
    if (status) return void call.emit("error", statusError(status.code, status.message, trailers));
    call.end(trailers);
  },

  async streamingInputCall(
    call: grpc.ServerReadableStream<StreamingInputCallRequest, StreamingInputCallResponse>,
    callback: grpc.sendUnaryData<StreamingInputCallResponse>,
  ) {
    const trailers = echoMetadata(call);
    let total = 0;
    for await (const request of requests(call)) total += request.payload?.body.length ?? 0;
    if (call.cancelled) return;
    callback(null, create(StreamingInputCallResponseSchema, { aggregatedPayloadSize: total }), trailers);
  },

  async fullDuplexCall(call: grpc.ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const trailers = echoMetadata(call);
    for await (const request of requests(call)) {
      const status = requestedStatus(request);
      if (status) return void call.emit("error", statusError(status.code, status.message, trailers));
      const error = unsupportedType(request.responseType, trailers);
      if (error) return void call.emit("error", error);
      if (!(await sendResponses(call, request.responseParameters))) return;
    }
    if (!call.cancelled) call.end(trailers);
  },

  async halfDuplexCall(call: grpc.ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const trailers = echoMetadata(call);
    const buffered: StreamingOutputCallRequest[] = [];
    for await (const request of requests(call)) buffered.push(request);
    if (call.cancelled) return;
    for (const request of buffered) {
      const status = requestedStatus(request);
      if (status) return void call.emit("error", statusError(status.code, status.message, trailers));
      if (!(await sendResponses(call, request.responseParameters))) return;
    }
    call.end(trailers);
  },
  // UnimplementedCall is deliberately absent: grpc-js answers it with UNIMPLEMENTED.
};

function main(): void {
  let config;
  try {
    config = parseServerFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`usage error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const credentials = config.useTls
    ? grpc.ServerCredentials.createSsl(
        config.requireClientAuth ? readPem(testCaFile(), "test CA") : null,
        [
          {
            cert_chain: readPem(serverCertFile(), "server certificate"),
            private_key: readPem(serverKeyFile(), "server key"),
          },
        ],
        config.requireClientAuth,
      )
    : grpc.ServerCredentials.createInsecure();
  const token = config.bearerToken;
  // --bearer_token: a server interceptor refuses calls without it, before any handler runs.
  const checkToken: grpc.ServerInterceptor = (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            if (metadata.get("authorization")[0] === `Bearer ${token}`) mdNext(metadata);
            else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: "missing or wrong bearer token" });
          },
        }),
    });
  const server = new grpc.Server(token === undefined ? {} : { interceptors: [checkToken] });
  server.addService(serviceDefinition(TestService), handlers as unknown as grpc.UntypedServiceImplementation);
  const address = hostPort(config.host, config.port);
  server.bindAsync(address, credentials, (error, port) => {
    if (error) {
      process.stderr.write(`grpc-js interop server: cannot listen on ${address}: ${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `grpc-js interop server listening on ${hostPort(config.host, port)} (${config.useTls ? (config.requireClientAuth ? "mtls" : "tls") : "plaintext"})\n`,
    );
  });
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
