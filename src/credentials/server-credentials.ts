import type { SecureServerOptions } from "node:http2";
import { toPem, type Pem } from "./channel-credentials.js";

/** A private key and its certificate chain, both PEM. */
export interface KeyCertPair {
  privateKey: Pem;
  certificateChain: Pem;
}

/**
 * How a server port is secured (gRPC Python `grpc.ServerCredentials`); made by
 * `sslServerCredentials()`, passed to `server.addSecurePort()`.
 */
export class ServerCredentials {
  /** @internal */
  constructor(readonly tls: SecureServerOptions) {}
}

/**
 * TLS server credentials (gRPC Python `grpc.ssl_server_credentials()`). With
 * `rootCertificates` the server asks clients for certificates signed by them, and
 * with `requireClientAuth` it refuses clients without one.
 */
export function sslServerCredentials(
  keyCertPairs: readonly (KeyCertPair | readonly [Pem, Pem])[],
  rootCertificates?: Pem,
  requireClientAuth = false,
): ServerCredentials {
  if (keyCertPairs.length === 0) throw new TypeError("sslServerCredentials needs at least one key/certificate pair");
  const pairs = keyCertPairs.map((p) => ("privateKey" in p ? p : { privateKey: p[0], certificateChain: p[1] }));
  const tls: SecureServerOptions = {
    key: pairs.map((p) => toPem(p.privateKey)),
    cert: pairs.map((p) => toPem(p.certificateChain)),
  };
  if (rootCertificates !== undefined) {
    tls.ca = toPem(rootCertificates);
    tls.requestCert = true;
    tls.rejectUnauthorized = requireClientAuth;
  } else if (requireClientAuth) {
    throw new TypeError("requireClientAuth needs rootCertificates to check client certificates against");
  }
  return new ServerCredentials(tls);
}
