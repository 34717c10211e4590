import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, createServer, secureChannel, sslChannelCredentials, sslServerCredentials, StatusCode } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";

// The conformance suite's test CA and server certificate (*.test.google.fr, localhost, 127.0.0.1, ::1).
const certs = (name: string) => readFileSync(fileURLToPath(new URL(`../../../conformance/certs/${name}`, import.meta.url)));
const clientCerts = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/certs/${name}`, import.meta.url)));
const test = suite("tls");

async function tlsServer(requireClientAuth: boolean) {
  const server = createServer();
  server.addService(Echo, { async unary(_req, context) { return { message: context.peer() }; } });
  const credentials = requireClientAuth
    ? sslServerCredentials([{ privateKey: certs("server1.key"), certificateChain: certs("server1.pem") }], certs("ca.pem"), true)
    : sslServerCredentials([[certs("server1.key"), certs("server1.pem")]]);
  const port = await server.addSecurePort("127.0.0.1:0", credentials);
  await server.start();
  return { server, port };
}

test("a TLS channel trusting the test CA reaches a TLS server by name and with a name override", async () => {
  const { server, port } = await tlsServer(false);
  for (const [target, options] of [
    [`localhost:${port}`, {}],
    [`127.0.0.1:${port}`, { "grpc.ssl_target_name_override": "foo.test.google.fr" }],
  ] as const) {
    const channel = secureChannel(target, sslChannelCredentials(certs("ca.pem")), { options });
    assert.match((await createClient(Echo, channel).unary({})).message, /^ipv4:127\.0\.0\.1:/);
    await channel.close();
  }
  await server.stop(null);
  await assertNoLeaks();
});

test("a certificate that does not match the name, or an untrusted CA, fails with UNAVAILABLE", async () => {
  const { server, port } = await tlsServer(false);
  const wrongName = secureChannel(`127.0.0.1:${port}`, sslChannelCredentials(certs("ca.pem")), {
    options: { "grpc.ssl_target_name_override": "evil.example.com" },
  });
  const err = await expectStatus(createClient(Echo, wrongName).unary({}), StatusCode.UNAVAILABLE);
  assert.match(err.details, /altnames|match/i);
  const untrusted = secureChannel(`localhost:${port}`, sslChannelCredentials());
  await expectStatus(createClient(Echo, untrusted).unary({}), StatusCode.UNAVAILABLE);
  await wrongName.close();
  await untrusted.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("mutual TLS: a server requiring client certificates refuses a client without one", async () => {
  const { server, port } = await tlsServer(true);
  const withCert = secureChannel(`localhost:${port}`, sslChannelCredentials(certs("ca.pem"), clientCerts("client.key"), clientCerts("client.pem")));
  assert.ok((await createClient(Echo, withCert).unary({})).message.length > 0);
  const without = secureChannel(`localhost:${port}`, sslChannelCredentials(certs("ca.pem")));
  await expectStatus(createClient(Echo, without).unary({}), StatusCode.UNAVAILABLE);
  await withCert.close();
  await without.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("credential arguments are checked", () => {
  assert.throws(() => sslChannelCredentials(undefined, certs("server1.key")), /go together/);
  assert.throws(() => sslServerCredentials([]), /at least one/);
});

test.run();
