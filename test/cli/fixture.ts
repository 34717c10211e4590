// The server the CLI tests talk to: testing.Echo (all four call kinds) and
// testing.reflect.Catalog, with reflection and health enabled, on plaintext, TLS or
// mutual TLS.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer, RpcError, sslServerCredentials, StatusCode, type Server } from "../../src/index.js";
import { HealthServicer, ServingStatus } from "../../src/health/index.js";
import { enableServerReflection } from "../../src/reflection/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { Catalog, Color, Item_Kind } from "../gen/testing/reflect/catalog_pb.js";
// node's sleep drops its abort listener when it resolves (a long stream adds one per message).
import { setTimeout as sleep } from "node:timers/promises";

export const certs = (name: string) => fileURLToPath(new URL(`../../../conformance/certs/${name}`, import.meta.url));
export const clientCerts = (name: string) => fileURLToPath(new URL(`../../../test/certs/${name}`, import.meta.url));

export interface Fixture {
  server: Server;
  health: HealthServicer;
  target: string;
  stop(): Promise<void>;
}

export type Security = "plaintext" | "tls" | "mtls";

export async function startFixture(security: Security = "plaintext"): Promise<Fixture> {
  const server = createServer();
  server.addService(Echo, {
    async unary(request, context) {
      if (request.message === "fail") throw new RpcError(StatusCode.FAILED_PRECONDITION, "asked to fail");
      // Echo the request's metadata back as trailers, so -H can be checked.
      const trailers: [string, string | Uint8Array][] = [];
      for (const [key, value] of context.invocationMetadata()) if (key.startsWith("x-")) trailers.push([key, value]);
      await context.sendInitialMetadata({ "x-header": "h" });
      context.setTrailingMetadata(trailers);
      if (request.delayMs) await sleep(request.delayMs, undefined, { signal: context.signal }).catch(() => {});
      return { message: request.message, payload: request.payload, index: request.count };
    },
    async *serverStream(request, context) {
      for (let i = 0; i < request.count; i++) {
        if (request.delayMs) await sleep(request.delayMs, undefined, { signal: context.signal }).catch(() => {});
        if (context.signal.aborted) return;
        yield { message: request.message, payload: request.payload, index: i };
      }
      if (request.message === "fail-after") context.abort(StatusCode.DATA_LOSS, "after the messages");
    },
    async clientStream(requests) {
      const seen: string[] = [];
      for await (const r of requests) seen.push(r.message);
      return { message: seen.join(","), index: seen.length };
    },
    async *bidi(requests) {
      let i = 0;
      for await (const r of requests) {
        // The server ends the call while the client may still be sending.
        if (r.message === "stop") return;
        yield { message: `re:${r.message}`, index: i++ };
      }
    },
  });
  server.addService(Catalog, {
    get: (r) => ({ id: `item-${r.id}`, kind: Item_Kind.A, color: Color.GREEN }),
  });
  const health = new HealthServicer();
  health.addToServer(server);
  health.set("testing.Echo", ServingStatus.SERVING);
  health.set("testing.reflect.Catalog", ServingStatus.NOT_SERVING);
  enableServerReflection(server);
  const pair = { privateKey: readFileSync(certs("server1.key")), certificateChain: readFileSync(certs("server1.pem")) };
  const port =
    security === "plaintext"
      ? await server.addInsecurePort("127.0.0.1:0")
      : await server.addSecurePort("127.0.0.1:0", sslServerCredentials([pair], security === "mtls" ? readFileSync(certs("ca.pem")) : undefined, security === "mtls"));
  await server.start();
  return { server, health, target: `127.0.0.1:${port}`, stop: () => server.stop(null) };
}
