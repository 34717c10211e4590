/**
 * Where the suite's files are, independent of the working directory: this module is
 * compiled to dist/conformance/lib/paths.js, three levels below the repository root.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CONFORMANCE_DIR = join(REPO_ROOT, "conformance");
export const CERTS_DIR = join(CONFORMANCE_DIR, "certs");

/** The CA a client trusts with --use_test_ca: $GRPC_TEST_CA, else conformance/certs/ca.pem. */
export function testCaFile(): string {
  return process.env["GRPC_TEST_CA"] || join(CERTS_DIR, "ca.pem");
}

/** The server's certificate chain: $GRPC_TEST_SERVER_CERT, else conformance/certs/server1.pem. */
export function serverCertFile(): string {
  return process.env["GRPC_TEST_SERVER_CERT"] || join(CERTS_DIR, "server1.pem");
}

/** The server's private key: $GRPC_TEST_SERVER_KEY, else conformance/certs/server1.key. */
export function serverKeyFile(): string {
  return process.env["GRPC_TEST_SERVER_KEY"] || join(CERTS_DIR, "server1.key");
}

/** The client certificate presented with --use_client_cert: $GRPC_TEST_CLIENT_CERT, else conformance/certs/client1.pem. */
export function clientCertFile(): string {
  return process.env["GRPC_TEST_CLIENT_CERT"] || join(CERTS_DIR, "client1.pem");
}

/** Its private key: $GRPC_TEST_CLIENT_KEY, else conformance/certs/client1.key. */
export function clientKeyFile(): string {
  return process.env["GRPC_TEST_CLIENT_KEY"] || join(CERTS_DIR, "client1.key");
}

export function readPem(file: string, what: string): Buffer {
  if (!existsSync(file)) throw new Error(`${what} not found: ${file}`);
  return readFileSync(file);
}
