// Health against other implementations: the grpc-health-check npm package's client (on
// grpc-js) against our server, our client against its server, and our client against
// a grpcio health servicer (test/peers/python/health_peer.py).
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation, service as healthService } from "grpc-health-check";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EOF, insecureChannel, StatusCode, type UnaryStreamCall } from "../../src/index.js";
import { HealthClient, HealthServicer, ServingStatus, type HealthCheckResponse } from "../../src/health/index.js";
import { assertNoLeaks, expectStatus, startServer } from "../helpers.js";
import { startPythonServer } from "../peers/python.js";

const test = suite("health: across implementations");

async function next(call: Pick<UnaryStreamCall<never, HealthCheckResponse>, "read">): Promise<ServingStatus> {
  const r = await call.read();
  if (r === EOF) throw new Error("the watch ended");
  return r.status;
}

interface PeerResponse {
  status: string;
}
type PeerClient = grpc.Client & {
  check(request: { service: string }, callback: (err: grpc.ServiceError | null, res?: PeerResponse) => void): void;
  list(request: object, callback: (err: grpc.ServiceError | null, res?: { statuses: Record<string, PeerResponse> }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<PeerResponse>;
};

function peerCall<T>(fn: (callback: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res!))));
}

test("the grpc-health-check client against our server: Check, NOT_FOUND, Watch and List", async () => {
  const health = new HealthServicer();
  health.set("svc", ServingStatus.NOT_SERVING);
  const started = await startServer((server) => health.addToServer(server));
  const Client = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Client(started.target, grpc.credentials.createInsecure()) as unknown as PeerClient;
  try {
    assert.is((await peerCall<PeerResponse>((cb) => client.check({ service: "" }, cb))).status, "SERVING");
    assert.is((await peerCall<PeerResponse>((cb) => client.check({ service: "svc" }, cb))).status, "NOT_SERVING");
    const missing = await peerCall<PeerResponse>((cb) => client.check({ service: "nope" }, cb)).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    assert.is(missing?.code, grpc.status.NOT_FOUND);

    const watch = client.watch({ service: "svc" });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      watch.on("data", (r: PeerResponse) => {
        seen.push(r.status);
        if (seen.length === 1) health.set("svc", ServingStatus.SERVING);
        if (seen.length === 2) health.clear("svc");
        if (seen.length === 3) resolve();
      });
    });
    watch.on("error", () => {});
    await done;
    assert.equal(seen, ["NOT_SERVING", "SERVING", "SERVICE_UNKNOWN"]);
    watch.cancel();

    const listed = await peerCall<{ statuses: Record<string, PeerResponse> }>((cb) => client.list({}, cb));
    assert.equal(Object.fromEntries(Object.entries(listed.statuses).map(([k, v]) => [k, v.status])), { "": "SERVING" });
  } finally {
    client.close();
    await started.server.stop(null);
  }
});

test("our client against the grpc-health-check server (grpc-js)", async () => {
  const impl = new HealthImplementation({ "": "SERVING", svc: "NOT_SERVING" });
  const server = new grpc.Server();
  impl.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    const client = new HealthClient(channel);
    assert.is((await client.check({ service: "" })).status, ServingStatus.SERVING);
    assert.is((await client.check({ service: "svc" })).status, ServingStatus.NOT_SERVING);
    await expectStatus(client.check({ service: "nope" }), StatusCode.NOT_FOUND);
    const watch = client.watch({ service: "later" });
    assert.is(await next(watch), ServingStatus.SERVICE_UNKNOWN);
    impl.setStatus("later", "SERVING");
    assert.is(await next(watch), ServingStatus.SERVING);
    watch.cancel();
    const listed = await client.list({});
    assert.is(listed.statuses["svc"]?.status, ServingStatus.NOT_SERVING);
    assert.is(listed.statuses["later"]?.status, ServingStatus.SERVING);
  } finally {
    await channel.close();
    server.forceShutdown();
  }
});

test("our client against a grpcio health servicer (same proto, protoc --python_out)", async () => {
  const peer = await startPythonServer("health_peer.py");
  const channel = insecureChannel(`127.0.0.1:${peer.port}`);
  try {
    const client = new HealthClient(channel);
    assert.is((await client.check({ service: "" })).status, ServingStatus.SERVING);
    await expectStatus(client.check({ service: "svc" }), StatusCode.NOT_FOUND);
    const watch = client.watch({ service: "svc" });
    assert.is(await next(watch), ServingStatus.SERVICE_UNKNOWN);
    peer.send("set svc NOT_SERVING");
    assert.is(await next(watch), ServingStatus.NOT_SERVING);
    peer.send("set svc SERVING");
    assert.is(await next(watch), ServingStatus.SERVING);
    peer.send("clear svc");
    assert.is(await next(watch), ServingStatus.SERVICE_UNKNOWN);
    watch.cancel();
    const listed = await client.list({});
    assert.equal(Object.keys(listed.statuses), [""]);
  } finally {
    await channel.close();
    await peer.stop();
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
