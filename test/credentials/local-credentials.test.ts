import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, localChannelCredentials, localServerCredentials, LocalConnectionType, secureChannel, StatusCode } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { parseReport, reportingServer } from "./fixtures.js";

const test = suite("local-credentials");

/** An IPv4 address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

test("LOCAL_TCP: a loopback client is served; the context reports local as gRPC Python does", async () => {
  const s = await reportingServer(localServerCredentials(LocalConnectionType.LOCAL_TCP));
  for (const target of [`127.0.0.1:${s.port}`, `localhost:${s.port}`]) {
    const channel = secureChannel(target, localChannelCredentials(LocalConnectionType.LOCAL_TCP));
    const r = parseReport((await createClient(Echo, channel).unary({})).message);
    assert.equal(r.authContext, { transport_security_type: ["local"], security_level: ["TSI_PRIVACY_AND_INTEGRITY"] });
    assert.equal(r.peerIdentities, ["local"]);
    assert.is(r.peerIdentityKey, "transport_security_type");
    await channel.close();
  }
  await s.server.stop(null);
  await assertNoLeaks();
});

test("UDS: a unix-socket client is served; a TCP peer of a UDS port is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "async-grpc-uds-"));
  try {
    const path = join(dir, "s.sock");
    const s = await reportingServer(localServerCredentials(LocalConnectionType.UDS), `unix:${path}`);
    const channel = secureChannel(`unix:${path}`, localChannelCredentials(LocalConnectionType.UDS));
    const r = parseReport((await createClient(Echo, channel).unary({})).message);
    assert.equal(r.authContext["transport_security_type"], ["local"]);
    await channel.close();
    await s.server.stop(null);

    const tcp = await reportingServer(localServerCredentials(LocalConnectionType.UDS));
    const tcpChannel = insecureChannel(`127.0.0.1:${tcp.port}`);
    await expectStatus(createClient(Echo, tcpChannel).unary({}), StatusCode.UNAVAILABLE);
    assert.is(tcp.calls, 0);
    await tcpChannel.close();
    await tcp.server.stop(null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertNoLeaks();
});

test("LOCAL_TCP: a peer that is not on loopback is refused; a loopback peer of the same port is served", async () => {
  const external = externalAddress();
  if (external === undefined) {
    console.log("  skipped the non-local peer: this machine has no non-loopback IPv4 address");
    return;
  }
  const s = await reportingServer(localServerCredentials(LocalConnectionType.LOCAL_TCP), "0.0.0.0:0");
  // The connection comes from the external address, so the server sees a non-local peer.
  const remote = insecureChannel(`${external}:${s.port}`);
  await expectStatus(createClient(Echo, remote).unary({}), StatusCode.UNAVAILABLE);
  assert.is(s.calls, 0);
  const local = insecureChannel(`127.0.0.1:${s.port}`);
  await createClient(Echo, local).unary({});
  assert.is(s.calls, 1);
  await remote.close();
  await local.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("local channel credentials refuse a target that is not local", () => {
  assert.throws(() => secureChannel("example.com:443", localChannelCredentials(LocalConnectionType.LOCAL_TCP)), /loopback/);
  assert.throws(() => secureChannel("10.1.2.3:80", localChannelCredentials()), /loopback/);
  assert.throws(() => secureChannel("127.0.0.1:80", localChannelCredentials(LocalConnectionType.UDS)), /unix:/);
  assert.throws(() => secureChannel("unix:/tmp/x", localChannelCredentials(LocalConnectionType.LOCAL_TCP)), /loopback/);
  assert.throws(() => localChannelCredentials(7 as LocalConnectionType), /Unknown/);
  assert.throws(() => localServerCredentials(7 as LocalConnectionType), /Unknown/);
});

test("an insecure port reports transport_security_type insecure and no identity", async () => {
  const s = await reportingServer(undefined);
  const channel = insecureChannel(`127.0.0.1:${s.port}`);
  const r = parseReport((await createClient(Echo, channel).unary({})).message);
  assert.equal(r.authContext, { transport_security_type: ["insecure"], security_level: ["TSI_SECURITY_NONE"] });
  assert.is(r.peerIdentities, null);
  assert.is(r.peerIdentityKey, null);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test.run();
