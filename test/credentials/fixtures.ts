// Test certificates (public test material made by the openssl scripts beside them) and
// a small Echo server that reports what it saw of the caller's credentials.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer, type Server, type ServerConfig, type ServerCredentials, type ServicerContext } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";

const read = (dir: string, name: string) => readFileSync(fileURLToPath(new URL(`../../../${dir}/${name}`, import.meta.url)));

/** The conformance test CA, its server certificate (localhost, 127.0.0.1, ::1) and client1 (SANs of every kind). */
export const ca = read("conformance/certs", "ca.pem");
export const server1 = { privateKey: read("conformance/certs", "server1.key"), certificateChain: read("conformance/certs", "server1.pem") };
export const client1 = { key: read("conformance/certs", "client1.key"), cert: read("conformance/certs", "client1.pem") };
/** A client certificate of the same CA with a common name and no SANs. */
export const cnOnlyClient = { key: read("test/certs", "client.key"), cert: read("test/certs", "client.pem") };
/** An unrelated CA, a server certificate and a client certificate it signed. */
export const otherCa = read("test/certs", "other-ca.pem");
export const otherServer = { privateKey: read("test/certs", "other-server.key"), certificateChain: read("test/certs", "other-server.pem") };
export const otherClient = { key: read("test/certs", "other-client.key"), cert: read("test/certs", "other-client.pem") };

/** What the server's unary handler reports about the caller. */
export interface Report {
  authorization: string[];
  metadata: Record<string, string[]>;
  authContext: Record<string, string[]>;
  peerIdentities: string[] | null;
  peerIdentityKey: string | null;
}

export function report(context: ServicerContext): Report {
  const authContext: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(context.authContext())) authContext[k] = v.map((b) => b.toString());
  const metadata = context.invocationMetadata().toJSON();
  return {
    authorization: (context.invocationMetadata().getAll("authorization") as string[]) ?? [],
    metadata,
    authContext,
    peerIdentities: context.peerIdentities()?.map((b) => b.toString()) ?? null,
    peerIdentityKey: context.peerIdentityKey() ?? null,
  };
}

export interface ReportingServer {
  server: Server;
  port: number;
  /** Calls that reached a handler. */
  calls: number;
}

/**
 * An Echo server whose unary method answers with the JSON `Report` of the call, and
 * whose bidi method echoes each message (for calls in flight across a rotation).
 */
export async function reportingServer(credentials: ServerCredentials | undefined, address = "127.0.0.1:0", config?: ServerConfig): Promise<ReportingServer> {
  const server = createServer(config);
  const state: ReportingServer = { server, port: 0, calls: 0 };
  server.addService(Echo, {
    async unary(_req, context) {
      state.calls++;
      return { message: JSON.stringify(report(context)) };
    },
    async *bidi(requests) {
      state.calls++;
      for await (const r of requests) yield { message: r.message };
    },
  });
  state.port = credentials ? await server.addSecurePort(address, credentials) : await server.addInsecurePort(address);
  await server.start();
  return state;
}

export function parseReport(message: string): Report {
  return JSON.parse(message) as Report;
}
