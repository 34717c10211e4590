import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  RpcError,
  secureChannel,
  sslChannelCredentials,
  sslServerCredentials,
  StatusCode,
  type ServerInterceptor,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { ca, client1, cnOnlyClient, otherClient, parseReport, reportingServer, server1, type Report } from "./fixtures.js";

const test = suite("mtls-identity");

async function callWith(port: number, cert?: { key: Buffer; cert: Buffer }): Promise<Report> {
  const channel = secureChannel(`localhost:${port}`, cert ? sslChannelCredentials(ca, cert.key, cert.cert) : sslChannelCredentials(ca));
  try {
    return parseReport((await createClient(Echo, channel).unary({})).message);
  } finally {
    await channel.close();
  }
}

async function refused(port: number, cert?: { key: Buffer; cert: Buffer }): Promise<void> {
  const channel = secureChannel(`localhost:${port}`, cert ? sslChannelCredentials(ca, cert.key, cert.cert) : sslChannelCredentials(ca));
  await expectStatus(createClient(Echo, channel).unary({}), StatusCode.UNAVAILABLE);
  await channel.close();
}

const SSL_ONLY = { transport_security_type: ["ssl"], security_level: ["TSI_PRIVACY_AND_INTEGRITY"], ssl_session_reused: ["false"] };

test("requireClientAuth with roots: a verified client certificate's names are the peer identity (as grpcio 1.51 reports them)", async () => {
  const s = await reportingServer(sslServerCredentials([server1], ca, true));
  const r = await callWith(s.port, client1);
  assert.equal(r.authContext["transport_security_type"], ["ssl"]);
  assert.equal(r.authContext["x509_common_name"], ["async-grpc interop test client"]);
  assert.equal(r.authContext["x509_subject"], ["CN=async-grpc interop test client,O=async-grpc,C=US"]);
  assert.equal(r.authContext["x509_subject_alternative_name"], ["client.test.example", "spiffe://test.example/client", "127.0.0.1"]);
  assert.equal(r.authContext["peer_dns"], ["client.test.example"]);
  assert.equal(r.authContext["peer_uri"], ["spiffe://test.example/client"]);
  assert.equal(r.authContext["peer_ip"], ["127.0.0.1"]);
  assert.equal(r.authContext["peer_spiffe_id"], ["spiffe://test.example/client"]);
  assert.match(r.authContext["x509_pem_cert"]![0]!, /^-----BEGIN CERTIFICATE-----\n/);
  assert.equal(r.peerIdentities, ["client.test.example", "spiffe://test.example/client", "127.0.0.1"]);
  assert.is(r.peerIdentityKey, "x509_subject_alternative_name");
  // A certificate with a common name and no SANs: the common name is the identity.
  const cn = await callWith(s.port, cnOnlyClient);
  assert.equal(cn.peerIdentities, ["test client"]);
  assert.is(cn.peerIdentityKey, "x509_common_name");
  await s.server.stop(null);
  await assertNoLeaks();
});

test("requireClientAuth with roots: no certificate, or one from an unknown CA, is refused at the handshake", async () => {
  const s = await reportingServer(sslServerCredentials([server1], ca, true));
  await refused(s.port);
  await refused(s.port, otherClient);
  assert.is(s.calls, 0);
  await s.server.stop(null);
  await assertNoLeaks();
});

test("roots without requireClientAuth: no certificate is asked for, any client is served, no identity (gRPC's DONT_REQUEST)", async () => {
  const s = await reportingServer(sslServerCredentials([server1], ca, false));
  for (const cert of [undefined, client1, otherClient]) {
    const r = await callWith(s.port, cert);
    assert.equal(r.authContext, SSL_ONLY);
    assert.is(r.peerIdentities, null);
    assert.is(r.peerIdentityKey, null);
  }
  await s.server.stop(null);
  await assertNoLeaks();
});

test("no roots, no client auth: plain TLS, no identity; requireClientAuth without roots is an error", async () => {
  const s = await reportingServer(sslServerCredentials([server1]));
  const r = await callWith(s.port, client1);
  assert.equal(r.authContext, SSL_ONLY);
  assert.is(r.peerIdentities, null);
  assert.throws(() => sslServerCredentials([server1], undefined, true), /Illegal to require client auth without providing root certificates/);
  await s.server.stop(null);
  await assertNoLeaks();
});

test("a server interceptor authorizes calls from details.authContext", async () => {
  const allowed = "client.test.example";
  const authorize: ServerInterceptor = {
    async interceptService(continuation, details) {
      const names = details.authContext?.["x509_subject_alternative_name"]?.map((b) => b.toString()) ?? [];
      if (!names.includes(allowed)) throw new RpcError(StatusCode.PERMISSION_DENIED, `not ${allowed}`);
      return continuation(details);
    },
  };
  const s = await reportingServer(sslServerCredentials([server1], ca, true), "127.0.0.1:0", { interceptors: [authorize] });
  assert.equal((await callWith(s.port, client1)).peerIdentityKey, "x509_subject_alternative_name");
  const channel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca, cnOnlyClient.key, cnOnlyClient.cert));
  const err = await expectStatus(createClient(Echo, channel).unary({}), StatusCode.PERMISSION_DENIED);
  assert.is(err.details, `not ${allowed}`);
  assert.is(s.calls, 1);
  await channel.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test.run();
