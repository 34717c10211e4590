// The CLI over TLS and mutual TLS, with the certificates of the conformance suite
// (server1 for *.test.google.fr, localhost and 127.0.0.1, signed by its test CA) and
// the client certificate under test/certs.
import { createServer as createH2Server } from "node:http2";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assertNoLeaks } from "../helpers.js";
import { certs, clientCerts, startFixture, type Fixture } from "./fixture.js";
import { runCli } from "./run-cli.js";

const test = suite("cli: TLS and mutual TLS");
let tls: Fixture;
let mtls: Fixture;

test.before(async () => {
  tls = await startFixture("tls");
  mtls = await startFixture("mtls");
});
test.after(async () => {
  await tls.stop();
  await mtls.stop();
  await assertNoLeaks();
});

const port = (f: Fixture) => f.target.split(":")[1];

test("TLS is the default: verified with --cacert, by IP or by name", async () => {
  const byIp = await runCli(["list", tls.target, "--cacert", certs("ca.pem")]);
  assert.is(byIp.code, 0, byIp.stderr);
  assert.match(byIp.stdout, "testing.Echo\n");
  const byName = await runCli(["call", `localhost:${port(tls)}`, "testing.Echo/Unary", "--cacert", certs("ca.pem"), "-d", '{"message":"tls"}']);
  assert.is(byName.code, 0, byName.stderr);
  assert.is(byName.stdout, '{"message":"tls"}\n');
});

test("an unknown CA fails with UNAVAILABLE (exit 78); --insecure connects without verifying", async () => {
  const untrusted = await runCli(["list", tls.target]);
  assert.is(untrusted.code, 78);
  assert.match(untrusted.stderr, /^UNAVAILABLE: .*certificate/);
  const insecure = await runCli(["call", tls.target, "testing.Echo/ServerStream", "--insecure", "-d", '{"count":2}']);
  assert.is(insecure.code, 0, insecure.stderr);
  assert.is(insecure.stdout, "{}\n" + '{"index":1}\n');
  // Plaintext to a TLS port is no connection at all.
  assert.is((await runCli(["list", tls.target, "--plaintext", "--connect-timeout", "2"])).code, 78);
});

test("--servername: the name the certificate must match (and the authority)", async () => {
  const good = await runCli(["list", tls.target, "--cacert", certs("ca.pem"), "--servername", "foo.test.google.fr"]);
  assert.is(good.code, 0, good.stderr);
  const wrong = await runCli(["list", tls.target, "--cacert", certs("ca.pem"), "--servername", "wrong.example"]);
  assert.is(wrong.code, 78);
  assert.match(wrong.stderr, "wrong.example");
  const authority = await runCli(["call", tls.target, "testing.Echo/Unary", "--cacert", certs("ca.pem"), "--authority", "other.test.google.fr"]);
  assert.is(authority.code, 0, authority.stderr);
});

test("mutual TLS: --cert and --key are presented; without them the server refuses", async () => {
  const withCert = ["--cacert", certs("ca.pem"), "--cert", clientCerts("client.pem"), "--key", clientCerts("client.key")];
  const call = await runCli(["call", mtls.target, "testing.Echo/Unary", ...withCert, "-d", '{"message":"m"}']);
  assert.is(call.code, 0, call.stderr);
  assert.is(call.stdout, '{"message":"m"}\n');
  const health = await runCli(["health", mtls.target, ...withCert]);
  assert.is(health.code, 0, health.stderr);
  const insecureWithCert = await runCli(["describe", mtls.target, "testing.Echo", "--insecure", "--cert", clientCerts("client.pem"), "--key", clientCerts("client.key")]);
  assert.is(insecureWithCert.code, 0, insecureWithCert.stderr);
  const without = await runCli(["list", mtls.target, "--cacert", certs("ca.pem")]);
  assert.is(without.code, 78);
  assert.match(without.stderr, /^UNAVAILABLE: /);
  const healthWithout = await runCli(["health", mtls.target, "--cacert", certs("ca.pem")]);
  assert.is(healthWithout.code, 2);
});

test("--authority is the :authority of each call; -H metadata goes with it", async () => {
  // A bare HTTP/2 server that records what arrives and answers UNIMPLEMENTED.
  const seen: { authority?: string; token?: string }[] = [];
  const h2 = createH2Server();
  h2.on("stream", (stream, headers) => {
    seen.push({ authority: headers[":authority"] as string, token: headers["x-token"] as string });
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "nothing here" }, { endStream: true });
  });
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
  const target = `127.0.0.1:${(h2.address() as { port: number }).port}`;
  const proto = ["--proto", "testing/echo.proto", "--import-path", fileURLToPath(new URL("../../../test/proto/", import.meta.url))];
  try {
    const r = await runCli(["call", target, "testing.Echo/Unary", "--plaintext", ...proto, "--authority", "api.example.com", "-H", "x-token: t1"]);
    assert.is(r.code, 12 + 64);
    assert.is(r.stderr, "UNIMPLEMENTED: nothing here\n");
    assert.equal(seen, [{ authority: "api.example.com", token: "t1" }]);
  } finally {
    await new Promise((resolve) => h2.close(resolve));
  }
});

test.run();
