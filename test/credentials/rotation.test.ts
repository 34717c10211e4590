import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  dynamicSslServerCredentials,
  secureChannel,
  sslChannelCredentials,
  sslServerCertificateConfiguration,
  StatusCode,
  type ServerCertificateConfiguration,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { ca, client1, otherCa, otherClient, otherServer, parseReport, reportingServer, server1 } from "./fixtures.js";

const test = suite("rotation");

test("rotation mid-run: new connections get the new certificate and client CAs; calls in flight and their connections go on", async () => {
  const first = sslServerCertificateConfiguration([server1], ca);
  const second = sslServerCertificateConfiguration([otherServer], otherCa);
  let next: ServerCertificateConfiguration | undefined;
  let fetches = 0;
  const s = await reportingServer(
    dynamicSslServerCredentials(first, () => {
      fetches++;
      const n = next;
      next = undefined;
      return n;
    }, true),
  );
  const oldChannel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca, client1.key, client1.cert));
  const oldClient = createClient(Echo, oldChannel);
  const stream = oldClient.bidi();
  await stream.write({ message: "before" });
  assert.is((await stream.read() as { message: string }).message, "before");
  assert.is(fetches, 1);

  next = second;
  // The next connection takes the new configuration.
  const newChannel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(otherCa, otherClient.key, otherClient.cert));
  const r = parseReport((await createClient(Echo, newChannel).unary({})).message);
  assert.equal(r.peerIdentities, ["other client"]);
  assert.is(fetches, 2);

  // The call in flight and its connection keep working, with their old identity.
  await stream.write({ message: "after" });
  assert.is((await stream.read() as { message: string }).message, "after");
  await stream.doneWriting();
  assert.is(await stream.code(), StatusCode.OK);
  assert.equal(parseReport((await oldClient.unary({})).message).peerIdentities?.[0], "client.test.example");

  // A new connection with the old CA's view fails both ways: the server's certificate
  // is no longer trusted, and the old client certificate no longer chains to the client CAs.
  const stale = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca, client1.key, client1.cert));
  await expectStatus(createClient(Echo, stale).unary({}), StatusCode.UNAVAILABLE);
  const oldClientCert = secureChannel(`localhost:${s.port}`, sslChannelCredentials(otherCa, client1.key, client1.cert));
  await expectStatus(createClient(Echo, oldClientCert).unary({}), StatusCode.UNAVAILABLE);

  for (const c of [oldChannel, newChannel, stale, oldClientCert]) await c.close();
  await s.server.stop(null);
  await assertNoLeaks();
});

test("a fetcher that throws, returns nothing or returns something else keeps the current certificates", async () => {
  let mode: "throw" | "none" | "null" | "junk" = "throw";
  let fetches = 0;
  const s = await reportingServer(
    dynamicSslServerCredentials(sslServerCertificateConfiguration([server1]), () => {
      fetches++;
      if (mode === "throw") throw new Error("vault unreachable");
      if (mode === "junk") return { context: {} } as unknown as ServerCertificateConfiguration;
      return mode === "null" ? null : undefined;
    }),
  );
  for (const m of ["throw", "none", "null", "junk"] as const) {
    mode = m;
    const channel = secureChannel(`localhost:${s.port}`, sslChannelCredentials(ca));
    await createClient(Echo, channel).unary({});
    await channel.close();
  }
  assert.is(fetches, 4);
  await s.server.stop(null);
  await assertNoLeaks();
});

test("argument checks", () => {
  assert.throws(() => dynamicSslServerCredentials({} as ServerCertificateConfiguration, () => undefined), /sslServerCertificateConfiguration/);
  assert.throws(() => sslServerCertificateConfiguration([]), /at least one/);
});

test.run();
