// Channelz across implementations: grpc-js's channelz client definition against our
// channelz service, and our ChannelzClient against grpc-js's channelz service (grpc-js
// tracks its channels and servers by default).
import * as grpc from "@grpc/grpc-js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel } from "../../src/index.js";
import { addChannelzServicer, ChannelzClient, disableChannelz } from "../../src/channelz/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer } from "../helpers.js";

const test = suite("channelz: across implementations");

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
interface PeerChannelzClient extends grpc.Client {
  GetTopChannels(req: object, cb: Callback<{ channel: { ref: { channel_id: string }; data: { target: string; calls_started: string; calls_succeeded: string } }[]; end: boolean }>): void;
  GetServers(req: object, cb: Callback<{ server: { ref: { server_id: string }; data: { calls_started: string } }[]; end: boolean }>): void;
}

function call<T>(fn: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res!))));
}

test("grpc-js's channelz client reads our channelz service", async () => {
  // Channelz is enabled by the admin server: it must exist before what it tracks.
  const admin = await startServer((server) => addChannelzServicer(server));
  const app = await startServer((server) => server.addService(Echo, { unary: (r) => ({ message: r.message }) }), { options: { "grpc.enable_channelz": 1 } });
  const channel = insecureChannel(app.target, { options: { "grpc.enable_channelz": 1 } });
  const Client = grpc.makeGenericClientConstructor(grpc.getChannelzServiceDefinition(), "Channelz");
  const peer = new Client(admin.target, grpc.credentials.createInsecure()) as unknown as PeerChannelzClient;
  try {
    await createClient(Echo, channel).unary({ message: "x" });
    await createClient(Echo, channel).unary({ message: "y" });
    const top = await call<Parameters<Parameters<PeerChannelzClient["GetTopChannels"]>[1]>[1]>((cb) => peer.GetTopChannels({ start_channel_id: 0 }, cb));
    const mine = top!.channel.find((c) => c.data.target === app.target);
    assert.ok(mine, JSON.stringify(top));
    assert.is(String(mine.data.calls_started), "2");
    assert.is(String(mine.data.calls_succeeded), "2");
    const servers = await call<Parameters<Parameters<PeerChannelzClient["GetServers"]>[1]>[1]>((cb) => peer.GetServers({ start_server_id: 0 }, cb));
    assert.ok(servers!.server.some((s) => String(s.data.calls_started) === "2"));
  } finally {
    peer.close();
    await channel.close();
    await app.server.stop(null);
    await admin.server.stop(null);
    disableChannelz();
  }
});

test("our ChannelzClient reads grpc-js's channelz service", async () => {
  const server = new grpc.Server();
  server.addService(grpc.getChannelzServiceDefinition(), grpc.getChannelzHandlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  // A grpc-js channel for grpc-js to report on.
  const peerClient = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    await new Promise<void>((resolve, reject) => peerClient.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())));
    const channelz = new ChannelzClient(channel);
    const { channel: channels } = await channelz.getTopChannels({});
    const theirs = channels.find((c) => c.data?.target.endsWith(`127.0.0.1:${port}`));
    assert.ok(theirs, channels.map((c) => c.data?.target).join(", "));
    const { server: servers } = await channelz.getServers({});
    assert.ok(servers.length >= 1);
    const me = servers.find((s) => s.listenSocket.length > 0);
    assert.ok(me);
    assert.ok((me.data?.callsStarted ?? 0n) >= 2n, "our two calls so far");
  } finally {
    peerClient.close();
    await channel.close();
    server.forceShutdown();
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
