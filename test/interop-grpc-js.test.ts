// Interop with @grpc/grpc-js in both directions: its client against our server, and
// our client against its server. Both servers implement the same little protocol on
// the testing.Echo service (below), so each direction checks the same behaviours:
// the four call kinds, metadata (ASCII, multi-valued and -bin; initial and trailing),
// non-OK statuses with unicode details, deadlines and cancellation.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { ServiceClient, ServiceClientConstructor } from "@grpc/grpc-js/build/src/make-client.js";
import type { ServerSurfaceCall } from "@grpc/grpc-js/build/src/server-call.js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  EOF,
  insecureChannel,
  Metadata,
  RpcError,
  StatusCode,
  type Channel,
  type ServicerContext,
} from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema, type EchoRequest, type EchoResponse } from "./gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, pattern, sleep, startServer, type Started } from "./helpers.js";

const DETAILS = "ünïcødé ✓ 100%";
/** Details that need every kind of escaping: control characters, "%", non-BMP. */
const HARD_DETAILS = "tab\there\r\nnext line, %41 is not A, 100%% 😀 ✓";
const BIN = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
const TRAILER_BIN = new Uint8Array([0, 255, 10, 13]);
const MiB = 1024 * 1024;

// ---- the shared protocol --------------------------------------------------------------
//
// unary, by request.message:
//   "status:N"  fails with code N, details DETAILS (+ " N"), trailing x-trailer / x-trailer-bin
//   "metadata"  answers JSON of what it saw (x-a, x-b-bin, x-multi); sends initial metadata
//               x-initial (= x-a), x-initial-bin (= x-b-bin); trailing x-trailing ["t1","t2"],
//               x-trailing-bin TRAILER_BIN
//   "deadline"  answers the seconds remaining ("none" without a deadline)
//   "slow"      waits up to 5 s for cancellation; records it
//   "throw"     throws a plain Error
//   "hard"      fails INVALID_ARGUMENT with HARD_DETAILS
//   otherwise   echoes message and payload
// serverStream: `count` responses (index i); "fail" then fails ABORTED after them;
//               "slow" sends one then waits up to 5 s for cancellation
// clientStream: joins the messages with ","; payload = sizes; index = count;
//               a request "early" answers at once without reading further
// bidi:         echoes each request with its index; a request "fail" fails ABORTED

interface Seen {
  slowStarted: number;
  slowCancelled: number;
  /** Deadline of the last "slow" call as the server saw it, epoch ms. */
  slowDeadline: number | undefined;
  earlyAnswered: number;
}

function freshSeen(): Seen {
  return { slowStarted: 0, slowCancelled: 0, slowDeadline: undefined, earlyAnswered: 0 };
}

function sizesOf(payloads: Uint8Array[]): string {
  return payloads.map((p) => p.byteLength).join(",");
}

// ---- grpc-js service definition (hand-built, protobuf-es serializers) -----------------------

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<EchoRequest, EchoResponse> {
  return {
    path: `/testing.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: (m: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(EchoRequestSchema, b),
    responseSerialize: (m: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(EchoResponseSchema, b),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

const echoDefinition = {
  unary: method("Unary", false, false),
  serverStream: method("ServerStream", false, true),
  clientStream: method("ClientStream", true, false),
  bidi: method("Bidi", true, true),
} satisfies grpc.ServiceDefinition;

const req = (init: { message?: string; payload?: Uint8Array; count?: number; delayMs?: number } = {}): EchoRequest => create(EchoRequestSchema, init);
const res = (init: { message?: string; payload?: Uint8Array; index?: number } = {}): EchoResponse => create(EchoResponseSchema, init);

function bytesOf(value: unknown): number[] {
  return value instanceof Uint8Array ? [...value] : [];
}

// =============================================================================================
// grpc-js client -> async-grpc server
// =============================================================================================

const toOurs = suite("interop: grpc-js client -> async-grpc server");
let ours: Started;
let ourSeen = freshSeen();
let GrpcEchoClient: ServiceClientConstructor;
let gClient: ServiceClient;

function ourUnary(request: EchoRequest, context: ServicerContext<EchoRequest, unknown>): Promise<{ message: string; payload?: Uint8Array }> | { message: string; payload?: Uint8Array } {
  const m = request.message;
  if (m.startsWith("status:")) {
    const code = Number(m.slice(7)) as StatusCode;
    context.abort(code, `${DETAILS} ${code}`, { "x-trailer": "t", "x-trailer-bin": TRAILER_BIN });
  }
  if (m === "throw") throw new Error("secret internal detail");
  if (m === "hard") context.abort(StatusCode.INVALID_ARGUMENT, HARD_DETAILS);
  if (m === "metadata") {
    const md = context.invocationMetadata();
    const a = md.get("x-a");
    const bin = md.get("x-b-bin");
    const seen = { a, bin: bytesOf(bin), multi: md.getAll("x-multi") };
    return context
      .sendInitialMetadata({ "x-initial": String(a), "x-initial-bin": bin instanceof Uint8Array ? bin : new Uint8Array() })
      .then(() => {
        context.setTrailingMetadata(new Metadata([["x-trailing", "t1"], ["x-trailing", "t2"], ["x-trailing-bin", TRAILER_BIN]]));
        return { message: JSON.stringify(seen) };
      });
  }
  if (m === "deadline") {
    const remaining = context.timeRemaining();
    return { message: remaining === undefined ? "none" : String(remaining) };
  }
  if (m === "slow") {
    ourSeen.slowStarted++;
    ourSeen.slowDeadline = context.deadline;
    return sleep(5000, context.signal).then(
      () => ({ message: "finished" }),
      () => {
        ourSeen.slowCancelled++;
        assert.ok(context.cancelled(), "context.cancelled() once the signal aborted");
        return { message: "cancelled" };
      },
    );
  }
  return { message: m, payload: request.payload };
}

toOurs.before(async () => {
  ours = await startServer((server) =>
    server.addService(Echo, {
      unary: ourUnary,
      async *serverStream(request, context) {
        if (request.message === "slow") {
          ourSeen.slowStarted++;
          yield { message: "first", index: 0 };
          try {
            await sleep(5000, context.signal);
          } catch {
            ourSeen.slowCancelled++;
            return;
          }
          yield { message: "second", index: 1 };
          return;
        }
        for (let i = 0; i < request.count; i++) yield { message: request.message, payload: request.payload, index: i };
        if (request.message === "fail") context.abort(StatusCode.ABORTED, DETAILS);
      },
      async clientStream(requests, context) {
        const messages: string[] = [];
        const payloads: Uint8Array[] = [];
        for await (const r of requests) {
          if (r.message === "early") {
            ourSeen.earlyAnswered++;
            return { message: "early", index: 1 };
          }
          if (r.message === "fail") context.abort(StatusCode.ABORTED, DETAILS);
          messages.push(r.message);
          payloads.push(r.payload);
        }
        return { message: messages.join(","), payload: new TextEncoder().encode(sizesOf(payloads)), index: messages.length };
      },
      async *bidi(requests, context) {
        let i = 0;
        for await (const r of requests) {
          if (r.message === "fail") context.abort(StatusCode.ABORTED, DETAILS);
          yield { message: r.message, payload: r.payload, index: i++ };
        }
      },
    }),
  );
  GrpcEchoClient = grpc.makeGenericClientConstructor(echoDefinition, "Echo");
  gClient = new GrpcEchoClient(ours.target, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 8 * MiB,
    "grpc.max_send_message_length": 8 * MiB,
  });
});

toOurs.after(async () => {
  gClient.close();
  await ours.server.stop(null);
  await assertNoLeaks();
});

toOurs.before.each(() => {
  ourSeen = freshSeen();
});

interface GrpcUnaryResult {
  error: grpc.ServiceError | null;
  response: EchoResponse | undefined;
  initial: grpc.Metadata | undefined;
  status: grpc.StatusObject;
}

/** A grpc-js unary call as a promise of everything it saw. */
function gUnary(
  client: ServiceClient,
  request: EchoRequest,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
  onCall?: (call: grpc.ClientUnaryCall) => void,
): Promise<GrpcUnaryResult> {
  return new Promise((resolve) => {
    let error: grpc.ServiceError | null = null;
    let response: EchoResponse | undefined;
    let initial: grpc.Metadata | undefined;
    let callbackDone = false;
    let status: grpc.StatusObject | undefined;
    const finish = () => {
      if (callbackDone && status) resolve({ error, response, initial, status });
    };
    const call: grpc.ClientUnaryCall = client.unary(request, metadata, options, (err: grpc.ServiceError | null, value?: EchoResponse) => {
      error = err;
      response = value;
      callbackDone = true;
      finish();
    });
    call.on("metadata", (md: grpc.Metadata) => (initial = md));
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
    onCall?.(call);
  });
}

/** Collects a grpc-js readable response stream until its status. */
function gCollect(call: grpc.ClientReadableStream<EchoResponse> | grpc.ClientDuplexStream<EchoRequest, EchoResponse>): Promise<{ messages: EchoResponse[]; error: grpc.ServiceError | undefined; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: EchoResponse[] = [];
    let error: grpc.ServiceError | undefined;
    let ended = false;
    let status: grpc.StatusObject | undefined;
    const finish = () => {
      if (status && (ended || error)) resolve({ messages, error, status });
    };
    call.on("data", (m: EchoResponse) => messages.push(m));
    call.on("error", (e: grpc.ServiceError) => {
      error = e;
      finish();
    });
    call.on("end", () => {
      ended = true;
      finish();
    });
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
  });
}

function mdBytes(md: grpc.Metadata | undefined, key: string): number[] {
  const v = md?.get(key)[0];
  return v instanceof Buffer ? [...v] : [];
}

toOurs("unary: echo with payload", async () => {
  const payload = pattern(1000);
  const r = await gUnary(gClient, req({ message: "hello", payload }));
  assert.is(r.error, null);
  assert.is(r.response?.message, "hello");
  assert.equal([...(r.response?.payload ?? [])], [...payload]);
  assert.is(r.status.code, grpc.status.OK);
});

toOurs("unary: 3 MiB request and response (flow control, framing across frames)", async () => {
  const payload = pattern(3 * MiB, 7);
  const r = await gUnary(gClient, req({ message: "big", payload }));
  assert.is(r.error, null);
  assert.is(r.response?.payload.byteLength, payload.byteLength);
  assert.ok(Buffer.from(r.response!.payload).equals(Buffer.from(payload)), "payload intact");
});

toOurs("unary: metadata both ways (ASCII, multi-valued, -bin; initial and trailing)", async () => {
  const md = new grpc.Metadata();
  md.add("x-a", "value-a");
  md.add("x-b-bin", Buffer.from(BIN));
  md.add("x-multi", "m1");
  md.add("x-multi", "m2");
  const r = await gUnary(gClient, req({ message: "metadata" }), md);
  assert.is(r.error, null, `call failed: ${r.error?.message}`);
  const seen = JSON.parse(r.response!.message) as { a: string; bin: number[]; multi: string[] };
  assert.is(seen.a, "value-a");
  assert.equal(seen.bin, [...BIN]);
  assert.equal(seen.multi, ["m1", "m2"], "multi-valued ASCII metadata keeps its values apart");
  assert.equal(r.initial?.get("x-initial"), ["value-a"]);
  assert.equal(mdBytes(r.initial, "x-initial-bin"), [...BIN]);
  // grpc-js itself joins repeated received headers ("t1, t2"); both values must be there.
  const trailing = r.status.metadata.get("x-trailing").flatMap((v) => String(v).split(",").map((s) => s.trim()));
  assert.equal(trailing, ["t1", "t2"]);
  assert.equal(mdBytes(r.status.metadata, "x-trailing-bin"), [...TRAILER_BIN]);
});

toOurs("unary: every non-OK status code with unicode details and trailing metadata", async () => {
  for (let code = 1; code <= 16; code++) {
    const r = await gUnary(gClient, req({ message: `status:${code}` }));
    assert.ok(r.error, `status ${code}: grpc-js sees an error`);
    assert.is(r.error!.code, code, `status ${code}`);
    assert.is(r.error!.details, `${DETAILS} ${code}`, `details of ${code}`);
    assert.is(r.response, undefined);
    assert.equal(r.error!.metadata.get("x-trailer"), ["t"], `trailer of ${code}`);
    assert.equal(mdBytes(r.error!.metadata, "x-trailer-bin"), [...TRAILER_BIN], `binary trailer of ${code}`);
  }
});

toOurs("unary: a handler's plain Error is UNKNOWN without its message or stack", async () => {
  const r = await gUnary(gClient, req({ message: "throw" }));
  assert.is(r.error?.code, grpc.status.UNKNOWN);
  assert.not.ok(r.error!.details.includes("secret"), `details leak the error: ${r.error!.details}`);
  assert.not.ok(r.error!.details.includes(" at "), "no stack in the details");
});

toOurs("server streaming: every message in order, then OK; and a failure after messages", async () => {
  const payload = pattern(100);
  const call: grpc.ClientReadableStream<EchoResponse> = gClient.serverStream(req({ message: "s", count: 50, payload }));
  const r = await gCollect(call);
  assert.is(r.error, undefined);
  assert.equal(r.messages.map((m) => m.index), [...Array(50).keys()]);
  assert.ok(r.messages.every((m) => m.message === "s" && m.payload.byteLength === 100));
  assert.is(r.status.code, grpc.status.OK);

  const failing = await gCollect(gClient.serverStream(req({ message: "fail", count: 3 })));
  assert.is(failing.messages.length, 3, "messages before the failure arrive");
  assert.is(failing.error?.code, grpc.status.ABORTED);
  assert.is(failing.error?.details, DETAILS);
});

toOurs("client streaming: all requests arrive in order", async () => {
  const result = await new Promise<{ err: grpc.ServiceError | null; value?: EchoResponse }>((resolve) => {
    const call: grpc.ClientWritableStream<EchoRequest> = gClient.clientStream((err: grpc.ServiceError | null, value?: EchoResponse) => resolve({ err, value }));
    for (let i = 0; i < 20; i++) call.write(req({ message: `m${i}`, payload: pattern(i * 10) }));
    call.end();
  });
  assert.is(result.err, null);
  assert.is(result.value?.index, 20);
  assert.is(result.value?.message, [...Array(20).keys()].map((i) => `m${i}`).join(","));
  assert.is(new TextDecoder().decode(result.value?.payload), [...Array(20).keys()].map((i) => i * 10).join(","));
});

toOurs("client streaming: an early answer while the client is still writing ends the call", async () => {
  const t0 = Date.now();
  const result = await new Promise<{ err: grpc.ServiceError | null; value?: EchoResponse }>((resolve) => {
    const call: grpc.ClientWritableStream<EchoRequest> = gClient.clientStream((err: grpc.ServiceError | null, value?: EchoResponse) => resolve({ err, value }));
    call.write(req({ message: "early" }));
    // Never half-closed: the answer alone must end the call.
  });
  assert.is(result.err, null);
  assert.is(result.value?.message, "early");
  assert.ok(Date.now() - t0 < 2000);
  assert.is(ourSeen.earlyAnswered, 1);
});

toOurs("bidi streaming: ping-pong, one response per request, in order", async () => {
  const call: grpc.ClientDuplexStream<EchoRequest, EchoResponse> = gClient.bidi();
  const collected = gCollect(call);
  const got: EchoResponse[] = [];
  call.on("data", (m: EchoResponse) => got.push(m));
  for (let i = 0; i < 10; i++) {
    call.write(req({ message: `p${i}` }));
    // Ping-pong: the response to each request arrives before the next is sent.
    await eventually(() => got.length === i + 1, `bidi response ${i}`);
    assert.is(got[i]!.message, `p${i}`);
    assert.is(got[i]!.index, i);
  }
  call.end();
  const r = await collected;
  assert.is(r.status.code, grpc.status.OK);
  assert.is(r.messages.length, 10);

  const failing: grpc.ClientDuplexStream<EchoRequest, EchoResponse> = gClient.bidi();
  const failed = gCollect(failing);
  failing.write(req({ message: "a" }));
  failing.write(req({ message: "fail" }));
  failing.end();
  const f = await failed;
  assert.is(f.messages.length, 1);
  assert.is(f.error?.code, grpc.status.ABORTED);
  assert.is(f.error?.details, DETAILS);
});

toOurs("deadline: the grpc-js deadline reaches the handler (timeRemaining, deadline)", async () => {
  const deadline = Date.now() + 5000;
  const r = await gUnary(gClient, req({ message: "deadline" }), new grpc.Metadata(), { deadline });
  assert.is(r.error, null);
  const remaining = Number(r.response!.message);
  assert.ok(remaining > 4 && remaining <= 5, `timeRemaining() = ${r.response!.message}`);
  const none = await gUnary(gClient, req({ message: "deadline" }));
  assert.is(none.response?.message, "none", "no deadline, no timeRemaining");
});

toOurs("deadline: a short grpc-js deadline gives DEADLINE_EXCEEDED and aborts the handler's signal", async () => {
  const deadline = Date.now() + 300;
  const t0 = Date.now();
  const r = await gUnary(gClient, req({ message: "slow" }), new grpc.Metadata(), { deadline });
  assert.is(r.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - t0 < 2000, "ended by the deadline, not the handler's 5 s");
  assert.ok(ourSeen.slowDeadline !== undefined && Math.abs(ourSeen.slowDeadline - deadline) < 100, `context.deadline ${ourSeen.slowDeadline} vs ${deadline}`);
  await eventually(() => ourSeen.slowCancelled === 1, "the handler's signal aborts");
});

toOurs("cancellation: grpc-js call.cancel() aborts the handler's signal (unary and server streaming)", async () => {
  let unaryCall: grpc.ClientUnaryCall | undefined;
  const pending = gUnary(gClient, req({ message: "slow" }), new grpc.Metadata(), {}, (c) => (unaryCall = c));
  await eventually(() => ourSeen.slowStarted === 1, "the handler starts");
  unaryCall!.cancel();
  const r = await pending;
  assert.is(r.error?.code, grpc.status.CANCELLED);
  await eventually(() => ourSeen.slowCancelled === 1, "the unary handler's signal aborts");

  const stream: grpc.ClientReadableStream<EchoResponse> = gClient.serverStream(req({ message: "slow" }));
  const collected = gCollect(stream);
  await eventually(() => ourSeen.slowStarted === 2, "the streaming handler starts");
  await sleep(20);
  stream.cancel();
  const s = await collected;
  assert.is(s.error?.code, grpc.status.CANCELLED);
  await eventually(() => ourSeen.slowCancelled === 2, "the streaming handler's signal aborts");
});

toOurs("empty messages and empty streams", async () => {
  const r = await gUnary(gClient, req());
  assert.is(r.error, null);
  assert.is(r.response?.message, "");
  assert.is(r.response?.payload.byteLength, 0);
  const none = await gCollect(gClient.serverStream(req({ message: "zero", count: 0 })));
  assert.is(none.error, undefined);
  assert.is(none.messages.length, 0);
  assert.is(none.status.code, grpc.status.OK);
  const result = await new Promise<{ err: grpc.ServiceError | null; value?: EchoResponse }>((resolve) => {
    const call: grpc.ClientWritableStream<EchoRequest> = gClient.clientStream((err: grpc.ServiceError | null, value?: EchoResponse) => resolve({ err, value }));
    call.end();
  });
  assert.is(result.err, null);
  assert.is(result.value?.index, 0);
});

toOurs("status details with control characters, percent signs and emoji round-trip", async () => {
  const r = await gUnary(gClient, req({ message: "hard" }));
  assert.is(r.error?.code, grpc.status.INVALID_ARGUMENT);
  assert.is(r.error?.details, HARD_DETAILS);
});

toOurs("bidi volume: 400 messages of 8 KiB each way, written without waiting", async () => {
  const call: grpc.ClientDuplexStream<EchoRequest, EchoResponse> = gClient.bidi();
  const collected = gCollect(call);
  const payload = pattern(8 * 1024, 5);
  for (let i = 0; i < 400; i++) call.write(req({ message: String(i), payload }));
  call.end();
  const r = await collected;
  assert.is(r.status.code, grpc.status.OK, r.error?.message);
  assert.is(r.messages.length, 400);
  assert.ok(r.messages.every((m, i) => m.index === i && m.message === String(i) && m.payload.byteLength === payload.byteLength));
});

toOurs("a request above our 4 MiB receive limit is RESOURCE_EXHAUSTED for grpc-js", async () => {
  const r = await gUnary(gClient, req({ message: "too big", payload: new Uint8Array(5 * MiB) }));
  assert.is(r.error?.code, grpc.status.RESOURCE_EXHAUSTED, r.error?.message);
  const ok = await gUnary(gClient, req({ message: "after" }));
  assert.is(ok.response?.message, "after", "the connection still works");
});

toOurs("compression: gzip requests from grpc-js are decompressed", async () => {
  const gzClient = new GrpcEchoClient(ours.target, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
  try {
    const payload = new Uint8Array(64 * 1024).fill(42);
    const r = await gUnary(gzClient, req({ message: "gz", payload }));
    assert.is(r.error, null, r.error?.message);
    assert.is(r.response?.payload.byteLength, payload.byteLength);
  } finally {
    gzClient.close();
  }
});

toOurs("unimplemented: an unknown method is UNIMPLEMENTED for grpc-js", async () => {
  const bogus = grpc.makeGenericClientConstructor({ nope: { ...echoDefinition.unary, path: "/testing.Echo/Nope" } }, "Echo");
  const client = new bogus(ours.target, grpc.credentials.createInsecure());
  try {
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.nope(req(), (e: grpc.ServiceError | null) => resolve(e)));
    assert.is(err?.code, grpc.status.UNIMPLEMENTED);
  } finally {
    client.close();
  }
});

toOurs.run();

// =============================================================================================
// async-grpc client -> grpc-js server
// =============================================================================================

const toGrpcJs = suite("interop: async-grpc client -> grpc-js server");
let gServer: grpc.Server;
let gTarget: string;
let gSeen = freshSeen();
let channel: Channel;

function gServerError(code: grpc.status, details: string, metadata?: grpc.Metadata): Partial<grpc.StatusObject> {
  return { code, details, metadata };
}

/** A grpc-js handler waiting up to 5 s for its call to be cancelled. */
function gWaitForCancel(call: ServerSurfaceCall): Promise<boolean> {
  return new Promise((resolve) => {
    if (call.cancelled) return resolve(true);
    const timer = setTimeout(() => resolve(false), 5000);
    call.once("cancelled", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const grpcJsImpl: grpc.UntypedServiceImplementation = {
  unary(call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) {
    const m = call.request.message;
    if (m.startsWith("status:")) {
      const code = Number(m.slice(7));
      const md = new grpc.Metadata();
      md.add("x-trailer", "t");
      md.add("x-trailer-bin", Buffer.from(TRAILER_BIN));
      callback(gServerError(code, `${DETAILS} ${code}`, md) as grpc.ServiceError);
      return;
    }
    if (m === "metadata") {
      const a = call.metadata.get("x-a")[0];
      const bin = call.metadata.get("x-b-bin")[0];
      const initial = new grpc.Metadata();
      initial.add("x-initial", String(a));
      initial.add("x-initial-bin", bin instanceof Buffer ? bin : Buffer.alloc(0));
      call.sendMetadata(initial);
      const trailing = new grpc.Metadata();
      trailing.add("x-trailing", "t1");
      trailing.add("x-trailing", "t2");
      trailing.add("x-trailing-bin", Buffer.from(TRAILER_BIN));
      const seen = { a, bin: bin instanceof Buffer ? [...bin] : [], multi: call.metadata.get("x-multi") };
      callback(null, res({ message: JSON.stringify(seen) }), trailing);
      return;
    }
    if (m === "deadline") {
      const d = call.getDeadline();
      const ms = d instanceof Date ? d.getTime() : d;
      callback(null, res({ message: Number.isFinite(ms) ? String((ms - Date.now()) / 1000) : "none" }));
      return;
    }
    if (m === "slow") {
      gSeen.slowStarted++;
      const d = call.getDeadline();
      gSeen.slowDeadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : undefined;
      void gWaitForCancel(call).then((cancelled) => {
        if (cancelled) gSeen.slowCancelled++;
        callback(null, res({ message: cancelled ? "cancelled" : "finished" }));
      });
      return;
    }
    if (m === "throw") {
      callback(new Error("grpc-js handler error"));
      return;
    }
    if (m === "hard") {
      callback(gServerError(grpc.status.INVALID_ARGUMENT, HARD_DETAILS) as grpc.ServiceError);
      return;
    }
    callback(null, res({ message: m, payload: call.request.payload }));
  },
  serverStream(call: grpc.ServerWritableStream<EchoRequest, EchoResponse>) {
    const r = call.request;
    if (r.message === "slow") {
      gSeen.slowStarted++;
      call.write(res({ message: "first", index: 0 }));
      void gWaitForCancel(call).then((cancelled) => {
        if (cancelled) gSeen.slowCancelled++;
        else call.end();
      });
      return;
    }
    for (let i = 0; i < r.count; i++) call.write(res({ message: r.message, payload: r.payload, index: i }));
    if (r.message === "fail") {
      call.emit("error", gServerError(grpc.status.ABORTED, DETAILS));
      return;
    }
    const trailing = new grpc.Metadata();
    trailing.add("x-stream-trailer", "done");
    call.end(trailing);
  },
  clientStream(call: grpc.ServerReadableStream<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) {
    const messages: string[] = [];
    const payloads: Uint8Array[] = [];
    let answered = false;
    call.on("data", (r: EchoRequest) => {
      if (answered) return;
      if (r.message === "early") {
        answered = true;
        gSeen.earlyAnswered++;
        callback(null, res({ message: "early", index: 1 }));
        return;
      }
      messages.push(r.message);
      payloads.push(r.payload);
    });
    call.on("end", () => {
      if (answered) return;
      callback(null, res({ message: messages.join(","), payload: new TextEncoder().encode(sizesOf(payloads)), index: messages.length }));
    });
  },
  bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoResponse>) {
    let i = 0;
    call.on("data", (r: EchoRequest) => {
      if (r.message === "fail") {
        call.emit("error", gServerError(grpc.status.ABORTED, DETAILS));
        return;
      }
      call.write(res({ message: r.message, payload: r.payload, index: i++ }));
    });
    call.on("end", () => call.end());
  },
};

toGrpcJs.before(async () => {
  gServer = new grpc.Server({ "grpc.max_receive_message_length": 8 * MiB });
  gServer.addService(echoDefinition, grpcJsImpl);
  const port = await new Promise<number>((resolve, reject) =>
    gServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  gTarget = `127.0.0.1:${port}`;
  channel = insecureChannel(gTarget);
});

toGrpcJs.after(async () => {
  await channel.close();
  gServer.forceShutdown();
  await assertNoLeaks();
});

toGrpcJs.before.each(() => {
  gSeen = freshSeen();
});

toGrpcJs("unary (typed client from the protoc-gen-es descriptor): echo with payload", async () => {
  const client = createClient(Echo, channel);
  const payload = pattern(1000, 3);
  const call = client.unary({ message: "hello", payload });
  const reply = await call;
  assert.is(reply.message, "hello");
  assert.equal([...reply.payload], [...payload]);
  assert.is(await call.code(), StatusCode.OK);
});

toGrpcJs("unary: 3 MiB request and response", async () => {
  const client = createClient(Echo, channel);
  const payload = pattern(3 * MiB, 9);
  const reply = await client.unary({ message: "big", payload });
  assert.ok(Buffer.from(reply.payload).equals(Buffer.from(payload)), "payload intact");
});

toGrpcJs("unary: metadata both ways (ASCII, multi-valued, -bin; initial and trailing)", async () => {
  const client = createClient(Echo, channel);
  const metadata = new Metadata([
    ["x-a", "value-a"],
    ["x-b-bin", BIN],
    ["x-multi", "m1"],
    ["x-multi", "m2"],
  ]);
  const call = client.unary({ message: "metadata" }, { metadata });
  const reply = await call;
  const seen = JSON.parse(reply.message) as { a: string; bin: number[]; multi: string[] };
  assert.is(seen.a, "value-a");
  assert.equal(seen.bin, [...BIN]);
  // grpc-js joins repeated headers itself ("m1, m2"), so only check that both values went out.
  assert.ok(seen.multi.join(",").replace(/\s/g, "") === "m1,m2", `x-multi as grpc-js saw it: ${JSON.stringify(seen.multi)}`);
  const initial = await call.initialMetadata();
  assert.is(initial.get("x-initial"), "value-a");
  assert.equal(bytesOf(initial.get("x-initial-bin")), [...BIN]);
  const trailing = await call.trailingMetadata();
  assert.equal(trailing.getAll("x-trailing"), ["t1", "t2"], "multi-valued trailing metadata keeps its values apart");
  assert.equal(bytesOf(trailing.get("x-trailing-bin")), [...TRAILER_BIN]);
  // Metadata given as a plain record works too.
  const plain = await client.unary({ message: "metadata" }, { metadata: { "x-a": "rec", "x-b-bin": new Uint8Array([7]) } });
  const seen2 = JSON.parse(plain.message) as { a: string; bin: number[] };
  assert.is(seen2.a, "rec");
  assert.equal(seen2.bin, [7]);
});

toGrpcJs("unary: every non-OK status code with unicode details and trailing metadata", async () => {
  const client = createClient(Echo, channel);
  for (let code = 1; code <= 16; code++) {
    const call = client.unary({ message: `status:${code}` });
    const err = await expectStatus(call, code as StatusCode);
    assert.is(err.details, `${DETAILS} ${code}`, `details of ${StatusCode[code]}`);
    assert.is(err.trailingMetadata.get("x-trailer"), "t", `trailer of ${StatusCode[code]}`);
    assert.equal(bytesOf(err.trailingMetadata.get("x-trailer-bin")), [...TRAILER_BIN]);
    assert.is(await call.code(), code as StatusCode);
    assert.is(await call.details(), `${DETAILS} ${code}`);
  }
  const hard = await expectStatus(client.unary({ message: "hard" }), StatusCode.INVALID_ARGUMENT);
  assert.is(hard.details, HARD_DETAILS, "control characters, percent signs and emoji round-trip");
  const err = await expectStatus(client.unary({ message: "throw" }), StatusCode.UNKNOWN);
  assert.ok(err.details.includes("grpc-js handler error"), `grpc-js sends the error message: ${err.details}`);
});

toGrpcJs("server streaming: all messages, trailing metadata, then a failure after messages", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ message: "s", count: 50, payload: pattern(100) });
  const indexes: number[] = [];
  for await (const m of call) {
    assert.is(m.message, "s");
    indexes.push(m.index);
  }
  assert.equal(indexes, [...Array(50).keys()]);
  assert.is(await call.code(), StatusCode.OK);
  assert.is((await call.trailingMetadata()).get("x-stream-trailer"), "done");

  const failing = client.serverStream({ message: "fail", count: 3 });
  const got: number[] = [];
  const err = await expectStatus(
    (async () => {
      for await (const m of failing) got.push(m.index);
    })(),
    StatusCode.ABORTED,
  );
  assert.equal(got, [0, 1, 2]);
  assert.is(err.details, DETAILS);

  // read() style.
  const reader = client.serverStream({ message: "r", count: 2 });
  assert.is(((await reader.read()) as EchoResponse).index, 0);
  assert.is(((await reader.read()) as EchoResponse).index, 1);
  assert.is(await reader.read(), EOF);
});

toGrpcJs("client streaming: an iterable of requests, and write()/doneWriting()", async () => {
  const client = createClient(Echo, channel);
  async function* requests() {
    for (let i = 0; i < 20; i++) yield { message: `m${i}`, payload: pattern(i * 10) };
  }
  const reply = await client.clientStream(requests());
  assert.is(reply.index, 20);
  assert.is(reply.message, [...Array(20).keys()].map((i) => `m${i}`).join(","));
  assert.is(new TextDecoder().decode(reply.payload), [...Array(20).keys()].map((i) => i * 10).join(","));

  const call = client.clientStream();
  await call.write({ message: "a" });
  await call.write({ message: "b" });
  await call.doneWriting();
  const r2 = await call;
  assert.is(r2.message, "a,b");
});

toGrpcJs("client streaming: grpc-js answering early ends our call and stops pulling requests", async () => {
  const client = createClient(Echo, channel);
  let pulled = 0;
  let returned = false;
  async function* requests() {
    try {
      yield { message: "early" };
      for (let i = 0; i < 200; i++) {
        pulled++;
        await sleep(10);
        yield { message: `more${i}` };
      }
    } finally {
      returned = true;
    }
  }
  const t0 = Date.now();
  const reply = await client.clientStream(requests());
  assert.is(reply.message, "early");
  assert.ok(Date.now() - t0 < 1500, `the answer ended the call (${Date.now() - t0} ms)`);
  await eventually(() => returned, "the request iterable is closed");
  assert.ok(pulled < 50, `stopped pulling requests (pulled ${pulled})`);
});

toGrpcJs("bidi streaming: ping-pong with write()/read(), then iteration", async () => {
  const client = createClient(Echo, channel);
  const call = client.bidi();
  for (let i = 0; i < 10; i++) {
    await call.write({ message: `p${i}` });
    const m = await call.read();
    assert.ok(m !== EOF, "a response per request");
    assert.is((m as EchoResponse).message, `p${i}`);
    assert.is((m as EchoResponse).index, i);
  }
  await call.doneWriting();
  assert.is(await call.read(), EOF);
  assert.is(await call.code(), StatusCode.OK);

  const iterated = client.bidi([{ message: "x" }, { message: "y" }]);
  const got: string[] = [];
  for await (const m of iterated) got.push(m.message);
  assert.equal(got, ["x", "y"]);

  const failing = client.bidi([{ message: "a" }, { message: "fail" }]);
  const err = await expectStatus(
    (async () => {
      for await (const _ of failing) {
        // one message, then the error
      }
    })(),
    StatusCode.ABORTED,
  );
  assert.is(err.details, DETAILS);
});

toGrpcJs("deadline: our timeoutMs reaches grpc-js (getDeadline) and the handler answers in time", async () => {
  const client = createClient(Echo, channel);
  const reply = await client.unary({ message: "deadline" }, { timeoutMs: 5000 });
  const remaining = Number(reply.message);
  assert.ok(remaining > 4 && remaining <= 5.01, `grpc-js sees ${reply.message} s remaining`);
  const none = await client.unary({ message: "deadline" });
  assert.is(none.message, "none");
});

toGrpcJs("deadline: our timeoutMs against a slow grpc-js handler gives DEADLINE_EXCEEDED; grpc-js sees it cancelled", async () => {
  const client = createClient(Echo, channel);
  const t0 = Date.now();
  const call = client.unary({ message: "slow" }, { timeoutMs: 300 });
  const err = await expectStatus(call, StatusCode.DEADLINE_EXCEEDED);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 250 && elapsed < 2000, `ended by the deadline after ${elapsed} ms`);
  assert.ok(err instanceof RpcError);
  assert.ok(gSeen.slowDeadline !== undefined && Math.abs(gSeen.slowDeadline - (t0 + 300)) < 150, `grpc-js deadline ${gSeen.slowDeadline! - t0} ms after the call`);
  await eventually(() => gSeen.slowCancelled === 1, "grpc-js sees the call cancelled");

  // A server-streaming call that outlives its deadline after the first message.
  const stream = client.serverStream({ message: "slow" }, { timeoutMs: 300 });
  const got: string[] = [];
  await expectStatus(
    (async () => {
      for await (const m of stream) got.push(m.message);
    })(),
    StatusCode.DEADLINE_EXCEEDED,
  );
  assert.equal(got, ["first"]);
  await eventually(() => gSeen.slowCancelled === 2, "grpc-js sees the stream cancelled");
});

toGrpcJs("cancellation: our AbortSignal cancels the grpc-js handler's call", async () => {
  const client = createClient(Echo, channel);
  const controller = new AbortController();
  const call = client.unary({ message: "slow" }, { signal: controller.signal });
  await eventually(() => gSeen.slowStarted === 1, "the grpc-js handler starts");
  controller.abort();
  await expectStatus(call, StatusCode.CANCELLED);
  await eventually(() => gSeen.slowCancelled === 1, "grpc-js emits 'cancelled'");

  const controller2 = new AbortController();
  const stream = client.serverStream({ message: "slow" }, { signal: controller2.signal });
  const first = await stream.read();
  assert.is((first as EchoResponse).message, "first");
  controller2.abort();
  await expectStatus(stream.read(), StatusCode.CANCELLED);
  await eventually(() => gSeen.slowCancelled === 2, "grpc-js sees the stream cancelled");

  // call.cancel() as well.
  const call3 = client.unary({ message: "slow" });
  await eventually(() => gSeen.slowStarted === 3, "the grpc-js handler starts");
  assert.ok(call3.cancel());
  await expectStatus(call3, StatusCode.CANCELLED);
  await eventually(() => gSeen.slowCancelled === 3, "grpc-js sees call.cancel()");
});

toGrpcJs("empty messages and empty streams", async () => {
  const client = createClient(Echo, channel);
  const reply = await client.unary({});
  assert.is(reply.message, "");
  assert.is(reply.payload.byteLength, 0);
  const none: EchoResponse[] = [];
  const stream = client.serverStream({ message: "zero", count: 0 });
  for await (const m of stream) none.push(m);
  assert.is(none.length, 0);
  assert.is(await stream.code(), StatusCode.OK);
  const empty = await client.clientStream([]);
  assert.is(empty.index, 0);
  const bidi = client.bidi([]);
  for await (const _ of bidi) assert.unreachable("no responses to no requests");
  assert.is(await bidi.code(), StatusCode.OK);
});

toGrpcJs("bidi volume: 400 messages of 8 KiB each way, from an iterable, read concurrently", async () => {
  const client = createClient(Echo, channel);
  const payload = pattern(8 * 1024, 11);
  function* requests() {
    for (let i = 0; i < 400; i++) yield { message: String(i), payload };
  }
  let n = 0;
  for await (const m of client.bidi(requests())) {
    assert.is(m.index, n);
    assert.is(m.message, String(n));
    assert.is(m.payload.byteLength, payload.byteLength);
    n++;
  }
  assert.is(n, 400);
});

toGrpcJs("a request above grpc-js's receive limit: RESOURCE_EXHAUSTED while we may still be sending", async () => {
  const client = createClient(Echo, channel);
  const t0 = Date.now();
  await expectStatus(client.unary({ message: "too big", payload: new Uint8Array(9 * MiB) }, { timeoutMs: 5000 }), StatusCode.RESOURCE_EXHAUSTED);
  assert.ok(Date.now() - t0 < 4000, "ended by grpc-js's status, not by our deadline");
  assert.is((await client.unary({ message: "after" })).message, "after", "the channel still works");
});

toGrpcJs("a response above our receive limit is RESOURCE_EXHAUSTED", async () => {
  const small = insecureChannel(gTarget, { options: { "grpc.max_receive_message_length": 1024 } });
  try {
    const client = createClient(Echo, small);
    const ok = await client.unary({ message: "fits", payload: new Uint8Array(900) });
    assert.is(ok.payload.byteLength, 900);
    await expectStatus(client.unary({ message: "big", payload: new Uint8Array(2048) }), StatusCode.RESOURCE_EXHAUSTED);
    const stream = client.serverStream({ message: "s", count: 3, payload: new Uint8Array(2048) });
    await expectStatus(
      (async () => {
        for await (const _ of stream) assert.unreachable("no oversize message is delivered");
      })(),
      StatusCode.RESOURCE_EXHAUSTED,
    );
    assert.is((await client.unary({ message: "after" })).message, "after", "the channel still works");
  } finally {
    await small.close();
  }
});

toGrpcJs("compression: gzip both ways with grpc-js", async () => {
  const gz = insecureChannel(gTarget, { compression: "gzip" });
  const gzServer = new grpc.Server({ "grpc.default_compression_algorithm": 2 });
  gzServer.addService(echoDefinition, grpcJsImpl);
  try {
    const payload = new Uint8Array(256 * 1024).fill(7);
    const reply = await createClient(Echo, gz).unary({ message: "gz", payload });
    assert.is(reply.payload.byteLength, payload.byteLength, "grpc-js decompressed our gzip request");
    const port = await new Promise<number>((resolve, reject) =>
      gzServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const plain = insecureChannel(`127.0.0.1:${port}`);
    try {
      const r2 = await createClient(Echo, plain).unary({ message: "gz", payload });
      assert.ok(r2.payload.every((b) => b === 7) && r2.payload.byteLength === payload.byteLength, "we decompressed grpc-js's response");
    } finally {
      await plain.close();
    }
  } finally {
    await gz.close();
    gzServer.forceShutdown();
  }
});

toGrpcJs("unimplemented: grpc-js answers an unknown method with UNIMPLEMENTED", async () => {
  await expectStatus(channel.unaryUnary("/testing.Echo/Nope")(new Uint8Array()), StatusCode.UNIMPLEMENTED);
  await expectStatus(channel.unaryUnary("/nope.Nope/Unary")(new Uint8Array()), StatusCode.UNIMPLEMENTED);
});

toGrpcJs("a grpc-js server that stops mid-call: our calls end with UNAVAILABLE or CANCELLED, never hang", async () => {
  const doomed = new grpc.Server();
  doomed.addService(echoDefinition, grpcJsImpl);
  const port = await new Promise<number>((resolve, reject) =>
    doomed.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const ch = insecureChannel(`127.0.0.1:${port}`);
  try {
    const client = createClient(Echo, ch);
    const call = client.unary({ message: "slow" }, { timeoutMs: 5000 });
    await eventually(() => gSeen.slowStarted === 1, "the grpc-js handler starts");
    doomed.forceShutdown();
    let code: StatusCode | undefined;
    try {
      await call;
    } catch (err) {
      code = err instanceof RpcError ? err.code : undefined;
    }
    assert.ok(code === StatusCode.UNAVAILABLE || code === StatusCode.CANCELLED || code === StatusCode.INTERNAL, `ended with ${code === undefined ? "success?" : StatusCode[code]}`);
  } finally {
    await ch.close();
    doomed.forceShutdown();
  }
});

toGrpcJs.run();
