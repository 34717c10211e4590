// Channelz through the instrumentation seam: counters after a known sequence of calls
// (failed ones included) on the channel, its subchannel, its socket, the server and the
// server's socket; paging; NOT_FOUND; entities leaving when closed; keepalives; TLS; and
// nothing tracked without `grpc.enable_channelz`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  insecureChannel,
  secureChannel,
  sslChannelCredentials,
  sslServerCredentials,
  StatusCode,
  type Channel,
  type Server,
} from "../../src/index.js";
import {
  addChannelzServicer,
  ChannelConnectivityState_State,
  ChannelzClient,
  disableChannelz,
  enableChannelz,
  type Channel as ChannelzChannel,
  type Socket,
} from "../../src/channelz/index.js";
import { addAdminServicers } from "../../src/admin/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, sleep, startServer, type Started } from "../helpers.js";

const test = suite("channelz");
const ON = { "grpc.enable_channelz": 1 };
const certs = (name: string) => readFileSync(fileURLToPath(new URL(`../../../conformance/certs/${name}`, import.meta.url)));

let admin: Started;
let adminChannel: Channel;
let channelz: ChannelzClient;

function echo(server: Server): void {
  server.addService(Echo, {
    async unary(request, context) {
      if (request.message.startsWith("fail")) context.abort(StatusCode.FAILED_PRECONDITION, "asked to fail");
      if (request.message === "slow") await sleep(5000, context.signal).catch(() => {});
      return { message: request.message };
    },
    async *serverStream(request) {
      for (let i = 0; i < request.count; i++) yield { message: request.message, index: i };
    },
  });
}

test.before(async () => {
  // The admin server is not tracked itself, so querying it leaves the counters alone.
  admin = await startServer((server) => addAdminServicers(server));
  adminChannel = insecureChannel(admin.target);
  channelz = new ChannelzClient(adminChannel);
});

test.after(async () => {
  await adminChannel.close();
  await admin.server.stop(null);
  disableChannelz();
  await assertNoLeaks();
});

/** Polls `get` (bounded) until `ok` holds; returns the last value. */
async function poll<T>(get: () => PromiseLike<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await get();
    if (ok(value)) return value;
    await sleep(10);
  }
  assert.unreachable(`timed out waiting for ${what}`);
  throw new Error("unreachable");
}

async function channelFor(target: string): Promise<ChannelzChannel> {
  const { channel } = await channelz.getTopChannels({});
  const found = channel.filter((c) => c.data?.target === target);
  assert.is(found.length, 1, `one tracked channel for ${target}`);
  return found[0]!;
}

async function socket(id: bigint): Promise<Socket> {
  const { socket } = await channelz.getSocket({ socketId: id });
  assert.ok(socket);
  return socket;
}

test("counters after a known sequence of calls: channel, subchannel, sockets on both sides, server", async () => {
  const app = await startServer(echo, { options: ON });
  const channel = insecureChannel(app.target, { options: ON });
  try {
    const client = createClient(Echo, channel);
    for (let i = 0; i < 3; i++) await client.unary({ message: `ok ${i}` });
    await expectStatus(client.unary({ message: "fail 1" }), StatusCode.FAILED_PRECONDITION);
    await expectStatus(client.unary({ message: "fail 2" }), StatusCode.FAILED_PRECONDITION);
    const streamed = [];
    for await (const r of client.serverStream({ message: "s", count: 3 })) streamed.push(r);
    assert.is(streamed.length, 3);
    await expectStatus(channel.unaryUnary("/testing.Echo/Nope")(new Uint8Array([1])), StatusCode.UNIMPLEMENTED);
    // 7 calls: 4 OK, 3 failed; 7 requests (the server reads 6: no handler reads the last), 6 responses.

    const ch = await channelFor(app.target);
    assert.is(ch.data?.state?.state, ChannelConnectivityState_State.READY);
    assert.is(ch.data?.callsStarted, 7n);
    assert.is(ch.data?.callsSucceeded, 4n);
    assert.is(ch.data?.callsFailed, 3n);
    assert.ok(ch.data?.lastCallStartedTimestamp, "last call started");
    assert.ok(ch.data?.trace?.events.some((e) => e.description === "Channel created"));
    assert.ok(ch.data?.trace?.events.some((e) => e.description === "Channel state changed to READY"));
    assert.equal((await channelz.getChannel({ channelId: ch.ref!.channelId })).channel?.data?.callsStarted, 7n);

    assert.is(ch.subchannelRef.length, 1);
    const { subchannel } = await channelz.getSubchannel({ subchannelId: ch.subchannelRef[0]!.subchannelId });
    assert.is(subchannel?.data?.callsStarted, 7n);
    assert.is(subchannel?.data?.callsSucceeded, 4n);
    assert.is(subchannel?.data?.callsFailed, 3n);
    assert.is(subchannel?.ref?.name, `ipv4:${app.target}`);
    assert.is(subchannel?.socketRef.length, 1);

    const clientSocket = await socket(subchannel!.socketRef[0]!.socketId);
    const cd = clientSocket.data!;
    assert.is(cd.streamsStarted, 7n);
    assert.is(cd.streamsSucceeded, 7n);
    assert.is(cd.streamsFailed, 0n);
    assert.is(cd.messagesSent, 7n);
    assert.is(cd.messagesReceived, 6n);
    assert.ok(cd.lastLocalStreamCreatedTimestamp && cd.lastMessageSentTimestamp && cd.lastMessageReceivedTimestamp);
    assert.ok(cd.localFlowControlWindow !== undefined && cd.remoteFlowControlWindow !== undefined, "flow-control windows");
    assert.is(clientSocket.remote?.address.case, "tcpipAddress");
    const remote = clientSocket.remote?.address.value as { ipAddress: Uint8Array; port: number };
    assert.equal([...remote.ipAddress], [127, 0, 0, 1]);
    assert.is(remote.port, app.port);
    const clientPort = (clientSocket.local?.address.value as { port: number }).port;

    const { server: servers } = await channelz.getServers({});
    const tracked = servers.filter((s) => s.listenSocket.length > 0 && s.data?.callsStarted === 7n);
    assert.is(tracked.length, 1, "the app server, and not the admin server");
    const server = tracked[0]!;
    assert.is(server.data?.callsSucceeded, 4n);
    assert.is(server.data?.callsFailed, 3n);
    const listen = await socket(server.listenSocket[0]!.socketId);
    assert.is((listen.local?.address.value as { port: number }).port, app.port);
    assert.equal((await channelz.getServer({ serverId: server.ref!.serverId })).server?.data?.callsStarted, 7n);

    const { socketRef, end } = await channelz.getServerSockets({ serverId: server.ref!.serverId });
    assert.ok(end);
    assert.is(socketRef.length, 1);
    const serverSocket = await socket(socketRef[0]!.socketId);
    const sd = serverSocket.data!;
    assert.is(sd.streamsStarted, 7n);
    assert.is(sd.streamsSucceeded, 7n);
    assert.is(sd.messagesReceived, 6n);
    assert.is(sd.messagesSent, 6n);
    assert.ok(sd.lastRemoteStreamCreatedTimestamp);
    assert.is((serverSocket.remote?.address.value as { port: number }).port, clientPort, "the server's socket is the client's");

    // A summary leaves out what costs a system call.
    const summary = (await channelz.getSocket({ socketId: socketRef[0]!.socketId, summary: true })).socket!;
    assert.is(summary.data?.localFlowControlWindow, undefined);
    assert.is(summary.data?.streamsStarted, 7n);
  } finally {
    await channel.close();
    await app.server.stop(null);
  }
});

test("a cancelled call and a deadline count as failed on both sides", async () => {
  const app = await startServer(echo, { options: ON });
  const channel = insecureChannel(app.target, { options: ON });
  try {
    const client = createClient(Echo, channel);
    await client.unary({ message: "warm" });
    const controller = new AbortController();
    const slow = client.unary({ message: "slow" }, { signal: controller.signal });
    await sleep(50);
    controller.abort();
    await expectStatus(slow, StatusCode.CANCELLED);
    await expectStatus(client.unary({ message: "slow" }, { timeoutMs: 50 }), StatusCode.DEADLINE_EXCEEDED);
    const ch = await channelFor(app.target);
    assert.is(ch.data?.callsStarted, 3n);
    assert.is(ch.data?.callsFailed, 2n);
    await poll(
      () => channelz.getServers({}),
      (r) => r.server.find((s) => s.data?.callsStarted === 3n)?.data?.callsFailed === 2n,
      "the server to count both failures",
    );
    const sub = (await channelz.getSubchannel({ subchannelId: ch.subchannelRef[0]!.subchannelId })).subchannel!;
    await poll(() => socket(sub.socketRef[0]!.socketId), (s) => s.data?.streamsFailed === 2n, "both streams to count as reset");
  } finally {
    await channel.close();
    await app.server.stop(null);
  }
});

test("paging: start ids, max_results and end; NOT_FOUND for unknown ids", async () => {
  const app = await startServer(echo, { options: ON });
  const channels = [0, 1, 2].map(() => insecureChannel(app.target, { options: ON }));
  try {
    const ids: bigint[] = [];
    let start = 0n;
    for (let i = 0; i < 10; i++) {
      const r = await channelz.getTopChannels({ startChannelId: start, maxResults: 1n });
      assert.is(r.channel.length, 1);
      ids.push(r.channel[0]!.ref!.channelId);
      start = r.channel[0]!.ref!.channelId + 1n;
      if (r.end) break;
    }
    assert.is(ids.length, 3);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, "in id order");
    const all = await channelz.getTopChannels({ maxResults: 0n });
    assert.ok(all.end);
    assert.is(all.channel.length, 3);
    for (const call of [
      channelz.getChannel({ channelId: 999_999n }),
      channelz.getSubchannel({ subchannelId: 999_999n }),
      channelz.getServer({ serverId: 999_999n }),
      channelz.getServerSockets({ serverId: 999_999n }),
      channelz.getSocket({ socketId: 999_999n }),
    ]) {
      await expectStatus(call, StatusCode.NOT_FOUND);
    }
  } finally {
    for (const c of channels) await c.close();
    await app.server.stop(null);
  }
  // Closed channels and stopped servers leave.
  assert.is((await channelz.getTopChannels({})).channel.length, 0);
  assert.is((await channelz.getServers({})).server.length, 0);
});

test("keepalives sent are counted on the client socket", async () => {
  const app = await startServer(echo, { options: { ...ON, "grpc.http2.min_ping_interval_without_data_ms": 1, "grpc.keepalive_permit_without_calls": 1 } });
  const channel = insecureChannel(app.target, { options: { ...ON, "grpc.keepalive_time_ms": 20, "grpc.keepalive_permit_without_calls": 1 } });
  try {
    await createClient(Echo, channel).unary({ message: "x" });
    const ch = await channelFor(app.target);
    const sub = (await channelz.getSubchannel({ subchannelId: ch.subchannelRef[0]!.subchannelId })).subchannel!;
    await poll(() => socket(sub.socketRef[0]!.socketId), (s) => (s.data?.keepAlivesSent ?? 0n) >= 2n, "two keepalive pings");
  } finally {
    await channel.close();
    await app.server.stop(null);
  }
});

test("TLS: the cipher and both certificates on the client socket", async () => {
  const app = await startServer(echo, { options: ON });
  await app.server.stop(null);
  const { createServer } = await import("../../src/index.js");
  const server = createServer({ options: ON });
  echo(server);
  const port = await server.addSecurePort("127.0.0.1:0", sslServerCredentials([{ privateKey: certs("server1.key"), certificateChain: certs("server1.pem") }]));
  await server.start();
  const target = `127.0.0.1:${port}`;
  const channel = secureChannel(target, sslChannelCredentials(certs("ca.pem")), { options: { ...ON, "grpc.ssl_target_name_override": "foo.test.google.fr" } });
  try {
    await createClient(Echo, channel).unary({ message: "x" });
    const ch = await channelFor(target);
    const sub = (await channelz.getSubchannel({ subchannelId: ch.subchannelRef[0]!.subchannelId })).subchannel!;
    const s = await socket(sub.socketRef[0]!.socketId);
    assert.is(s.security?.model.case, "tls");
    const tls = s.security?.model.value as { cipherSuite: { case: string; value: string }; remoteCertificate: Uint8Array };
    assert.is(tls.cipherSuite.case, "standardName");
    assert.match(tls.cipherSuite.value, /^TLS_/);
    assert.ok(tls.remoteCertificate.length > 100, "the server's certificate (DER)");
    const summary = (await channelz.getSocket({ socketId: sub.socketRef[0]!.socketId, summary: true })).socket!;
    assert.is(summary.security, undefined);
  } finally {
    await channel.close();
    await server.stop(null);
  }
});

test("without grpc.enable_channelz nothing is tracked; after disableChannelz() new ones are not either", async () => {
  const app = await startServer(echo);
  const plain = insecureChannel(app.target);
  await createClient(Echo, plain).unary({ message: "x" });
  assert.is((await channelz.getTopChannels({})).channel.length, 0);
  assert.is((await channelz.getServers({})).server.length, 0);
  disableChannelz();
  const later = insecureChannel(app.target, { options: ON });
  await createClient(Echo, later).unary({ message: "x" });
  assert.is((await channelz.getTopChannels({})).channel.length, 0);
  enableChannelz();
  await plain.close();
  await later.close();
  await app.server.stop(null);
});

test("addAdminServicers registers channelz (and addChannelzServicer works alone)", async () => {
  const other = await startServer((server) => addChannelzServicer(server));
  const ch = insecureChannel(other.target);
  try {
    const r = await new ChannelzClient(ch).getTopChannels({});
    assert.ok(r.end);
    assert.ok(admin.server.registeredServices().has("grpc.channelz.v1.Channelz"));
  } finally {
    await ch.close();
    await other.server.stop(null);
  }
});

test.run();
