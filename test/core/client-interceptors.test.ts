import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, StatusCode, type ClientInterceptor } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("client interceptors");
let started: Started;

test.before(async () => {
  started = await startServer((s) =>
    s.addService(Echo, {
      async unary(request, context) {
        const md = context.invocationMetadata();
        if (md.get("authorization") !== "Bearer t0k3n") context.abort(StatusCode.UNAUTHENTICATED, "no token");
        return { message: `${request.message}|${md.getAll("x-trace").join(",")}|${context.timeRemaining() !== undefined}` };
      },
      async *serverStream(request) {
        for (let i = 0; i < request.count; i++) yield { index: i };
      },
    }),
  );
});

test.after(async () => {
  await started.server.stop(null);
  await assertNoLeaks();
});

test("interceptors add metadata and options, in order, for every call kind, and observe the outcome", async () => {
  const order: string[] = [];
  const outcomes: string[] = [];
  const auth: ClientInterceptor = (details, next) => {
    order.push(`auth ${details.kind} ${details.method}`);
    details.options.metadata.set("authorization", "Bearer t0k3n");
    return next(details);
  };
  const tracing: ClientInterceptor = (details, next) => {
    order.push("trace");
    details.options.metadata.add("x-trace", "span-1");
    details.options = { ...details.options, timeoutMs: 5000 };
    const call = next(details);
    call.addDoneCallback((c) => void c.code().then((code) => outcomes.push(`${details.method} ${StatusCode[code]}`)));
    return call;
  };
  const channel = insecureChannel(started.target, { interceptors: [auth, tracing] });
  const client = createClient(Echo, channel);
  const reply = await client.unary({ message: "hi" }, { metadata: { "x-trace": "caller" } });
  assert.is(reply.message, "hi|caller,span-1|true");
  const got: number[] = [];
  for await (const r of client.serverStream({ count: 3 })) got.push(r.index);
  assert.equal(got, [0, 1, 2]);
  assert.equal(order, ["auth unary /testing.Echo/Unary", "trace", "auth server_streaming /testing.Echo/ServerStream", "trace"]);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(outcomes, ["/testing.Echo/Unary OK", "/testing.Echo/ServerStream OK"]);
  await channel.close();
});

test("an interceptor can change the request; without one the server rejects", async () => {
  const shout: ClientInterceptor = (details, next) => {
    details.options.metadata.set("authorization", "Bearer t0k3n");
    details.request = { message: String((details.request as { message: string }).message).toUpperCase() };
    return next(details);
  };
  const channel = insecureChannel(started.target, { interceptors: [shout] });
  assert.is((await createClient(Echo, channel).unary({ message: "quiet" })).message, "QUIET||false");
  const plain = insecureChannel(started.target);
  await expectStatus(createClient(Echo, plain).unary({ message: "x" }), StatusCode.UNAUTHENTICATED);
  await channel.close();
  await plain.close();
});

test.run();
