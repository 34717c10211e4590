import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  accessTokenCallCredentials,
  compositeCallCredentials,
  compositeChannelCredentials,
  createClient,
  insecureChannel,
  localChannelCredentials,
  localServerCredentials,
  LocalConnectionType,
  Metadata,
  metadataCallCredentials,
  secureChannel,
  sslChannelCredentials,
  sslServerCredentials,
  StatusCode,
  type AuthMetadataContext,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus } from "../helpers.js";
import { ca, parseReport, reportingServer, server1 } from "./fixtures.js";

const test = suite("call-credentials");
const tlsServer = () => reportingServer(sslServerCredentials([server1]));

test("an access token goes out as authorization: Bearer over TLS; channel credentials and per-call ones both run", async () => {
  const s = await tlsServer();
  const seen: AuthMetadataContext[] = [];
  const channelCreds = compositeChannelCredentials(
    sslChannelCredentials(ca),
    accessTokenCallCredentials("channel-token"),
    metadataCallCredentials((context, signal) => {
      assert.ok(signal instanceof AbortSignal && !signal.aborted);
      seen.push(context);
      return { "x-plugin": "one" };
    }),
  );
  const channel = secureChannel(`localhost:${s.port}`, channelCreds);
  const client = createClient(Echo, channel);
  let r = parseReport((await client.unary({}, { metadata: { "x-own": "mine" } })).message);
  assert.equal(r.authorization, ["Bearer channel-token"]);
  assert.equal(r.metadata["x-plugin"], ["one"]);
  assert.equal(r.metadata["x-own"], ["mine"]);
  assert.equal(seen, [{ serviceUrl: `https://localhost:${s.port}/testing.Echo`, methodName: "Unary" }]);
  r = parseReport((await client.unary({}, { credentials: metadataCallCredentials(() => ({ "x-call-token": "c" })) })).message);
  assert.equal(r.authorization, ["Bearer channel-token"]);
  assert.equal(r.metadata["x-call-token"], ["c"]);
  assert.equal(seen.length, 2);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("compositeCallCredentials runs each plugin in turn; async plugins and Metadata results work", async () => {
  const s = await tlsServer();
  const channel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca));
  const creds = compositeCallCredentials(
    metadataCallCredentials(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return new Metadata().add("x-order", "first");
    }),
    metadataCallCredentials(() => ({ "x-order": "second", "x-token-bin": new Uint8Array([1, 2, 3]) })),
  );
  const r = parseReport((await createClient(Echo, channel).unary({}, { credentials: creds })).message);
  assert.equal(r.metadata["x-order"], ["first", "second"]);
  assert.ok(r.metadata["x-token-bin"]);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("a plugin that throws or returns bad metadata fails the call with UNAVAILABLE and its message; nothing is sent", async () => {
  const s = await tlsServer();
  const channel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca));
  const client = createClient(Echo, channel);
  const throwing = metadataCallCredentials(async () => {
    throw new Error("token service down");
  });
  let err = await expectStatus(client.unary({}, { credentials: throwing }), StatusCode.UNAVAILABLE);
  assert.is(err.details, "Getting metadata from plugin failed with error: token service down");
  err = await expectStatus(client.unary({}, { credentials: metadataCallCredentials(() => ({ "Bad Key!": "v" })) }), StatusCode.UNAVAILABLE);
  assert.match(err.details, /^Illegal metadata: /);
  err = await expectStatus(client.unary({}, { credentials: metadataCallCredentials(() => ({ "x-a": "not\nascii" })) }), StatusCode.UNAVAILABLE);
  assert.match(err.details, /^Illegal metadata: /);
  // Streaming calls too.
  const bidi = client.bidi([{ message: "x" }], { credentials: throwing });
  assert.is(await bidi.code(), StatusCode.UNAVAILABLE);
  assert.is(s.calls, 0, "no call reached the server");
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("a plugin that never answers: the deadline or a cancel ends the call, and the plugin's signal aborts", async () => {
  const s = await tlsServer();
  const channel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca));
  const client = createClient(Echo, channel);
  const signals: AbortSignal[] = [];
  const hanging = metadataCallCredentials((_context, signal) => {
    signals.push(signal);
    return new Promise(() => {});
  });
  await expectStatus(client.unary({}, { credentials: hanging, timeoutMs: 50 }), StatusCode.DEADLINE_EXCEEDED);
  const controller = new AbortController();
  const call = client.unary({}, { credentials: hanging, signal: controller.signal });
  controller.abort();
  await expectStatus(call, StatusCode.CANCELLED);
  await eventually(() => signals.length === 2 && signals.every((x) => x.aborted), "the plugins' signals to abort");
  // A plugin that answers after the call ended sends nothing.
  let release!: () => void;
  const late = metadataCallCredentials(() => new Promise((resolve) => (release = () => resolve({ "x-late": "1" }))));
  await expectStatus(client.unary({}, { credentials: late, timeoutMs: 30 }), StatusCode.DEADLINE_EXCEEDED);
  release();
  await new Promise((r) => setTimeout(r, 50));
  assert.is(s.calls, 0, "no call reached the server");
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("call credentials on a plaintext channel are refused with UNAUTHENTICATED and never sent", async () => {
  const s = await reportingServer(undefined);
  const channel = insecureChannel(`127.0.0.1:${s.port}`);
  let ran = false;
  const creds = metadataCallCredentials(() => {
    ran = true;
    return { authorization: "Bearer secret" };
  });
  const err = await expectStatus(createClient(Echo, channel).unary({}, { credentials: creds }), StatusCode.UNAUTHENTICATED);
  assert.match(err.details, /sufficient security level/);
  assert.not.ok(ran, "the plugin did not run");
  assert.is(s.calls, 0);
  assert.throws(() => createClient(Echo, channel).unary({}, { credentials: {} as never }), /call credentials/);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("call credentials are allowed over local credentials (as gRPC does)", async () => {
  const s = await reportingServer(localServerCredentials(LocalConnectionType.LOCAL_TCP));
  const channel = secureChannel(`127.0.0.1:${s.port}`, compositeChannelCredentials(localChannelCredentials(LocalConnectionType.LOCAL_TCP), accessTokenCallCredentials("t")));
  const r = parseReport((await createClient(Echo, channel).unary({})).message);
  assert.equal(r.authorization, ["Bearer t"]);
  assert.equal(r.authContext["transport_security_type"], ["local"]);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("argument checks", () => {
  assert.throws(() => metadataCallCredentials("x" as never), /function/);
  assert.throws(() => compositeCallCredentials(accessTokenCallCredentials("a")), /at least two/);
  assert.throws(() => compositeChannelCredentials(sslChannelCredentials()), /at least one/);
});

test.run();
