// mTLS and call credentials against @grpc/grpc-js, both directions: our client with a
// client certificate and a bearer token to its server, its client with both to ours.
// (The Python runs are in the conformance runner: `npm run conformance -- --tls mtls`.)
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  accessTokenCallCredentials,
  compositeChannelCredentials,
  createClient,
  RpcError,
  secureChannel,
  sslChannelCredentials,
  sslServerCredentials,
  StatusCode,
  type ServerInterceptor,
} from "../../src/index.js";
import { EchoRequestSchema, EchoResponseSchema, type EchoRequest, type EchoResponse, Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { ca, client1, parseReport, reportingServer, server1 } from "./fixtures.js";

const test = suite("credentials-interop-grpc-js");
const TOKEN = "interop-token";

const unary: grpc.MethodDefinition<EchoRequest, EchoResponse> = {
  path: "/testing.Echo/Unary",
  requestStream: false,
  responseStream: false,
  requestSerialize: (m: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, m)),
  requestDeserialize: (b: Buffer) => fromBinary(EchoRequestSchema, b),
  responseSerialize: (m: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, m)),
  responseDeserialize: (b: Buffer) => fromBinary(EchoResponseSchema, b),
  originalName: "unary",
};

test("our client (client certificate + access token) to a grpc-js server that requires both", async () => {
  const gServer = new grpc.Server();
  gServer.addService({ unary }, {
    unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      if (call.metadata.get("authorization")[0] !== `Bearer ${TOKEN}`) {
        callback({ code: grpc.status.UNAUTHENTICATED, details: "bad token" });
        return;
      }
      const auth = call.getAuthContext();
      callback(null, create(EchoResponseSchema, { message: `${auth.transportSecurityType}:${auth.sslPeerCertificate?.subject?.CN}` }));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    gServer.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createSsl(ca, [{ private_key: server1.privateKey, cert_chain: server1.certificateChain }], true),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  const channel = secureChannel(`localhost:${port}`, compositeChannelCredentials(sslChannelCredentials(ca, client1.key, client1.cert), accessTokenCallCredentials(TOKEN)));
  assert.is((await createClient(Echo, channel).unary({})).message, "ssl:async-grpc interop test client");
  const noToken = secureChannel(`localhost:${port}`, sslChannelCredentials(ca, client1.key, client1.cert));
  await expectStatus(createClient(Echo, noToken).unary({}), StatusCode.UNAUTHENTICATED);
  const noCert = secureChannel(`localhost:${port}`, compositeChannelCredentials(sslChannelCredentials(ca), accessTokenCallCredentials(TOKEN)));
  await expectStatus(createClient(Echo, noCert).unary({}), StatusCode.UNAVAILABLE);
  for (const c of [channel, noToken, noCert]) await c.close();
  await new Promise<void>((resolve) => gServer.tryShutdown(() => resolve()));
  await assertNoLeaks();
});

test("a grpc-js client (client certificate + call credentials) to our server that requires both", async () => {
  const checkToken: ServerInterceptor = {
    async interceptService(continuation, details) {
      if (details.invocationMetadata.get("authorization") !== `Bearer ${TOKEN}`) throw new RpcError(StatusCode.UNAUTHENTICATED, "bad token");
      return continuation(details);
    },
  };
  const s = await reportingServer(sslServerCredentials([server1], ca, true), "127.0.0.1:0", { interceptors: [checkToken] });
  const Client = grpc.makeGenericClientConstructor({ unary }, "Echo");
  const token = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    callback(null, md);
  });
  const call = (creds: grpc.ChannelCredentials) =>
    new Promise<EchoResponse>((resolve, reject) => {
      const client = new Client(`localhost:${s.port}`, creds);
      (client as unknown as { unary: (r: EchoRequest, cb: (e: grpc.ServiceError | null, v?: EchoResponse) => void) => void }).unary(
        create(EchoRequestSchema, {}),
        (err, value) => {
          client.close();
          if (err) reject(err);
          else resolve(value!);
        },
      );
    });
  const r = parseReport((await call(grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(ca, client1.key, client1.cert), token))).message);
  assert.equal(r.authorization, [`Bearer ${TOKEN}`]);
  assert.equal(r.peerIdentities, ["client.test.example", "spiffe://test.example/client", "127.0.0.1"]);
  assert.equal(r.authContext["x509_common_name"], ["async-grpc interop test client"]);
  const noToken = await call(grpc.credentials.createSsl(ca, client1.key, client1.cert)).catch((e: grpc.ServiceError) => e);
  assert.is((noToken as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED);
  const noCert = await call(grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(ca), token)).catch((e: grpc.ServiceError) => e);
  assert.is((noCert as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
  assert.is(s.calls, 1);
  await s.server.stop(null);
  await assertNoLeaks();
});

test.run();
