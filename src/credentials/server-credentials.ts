import type { SecureServerOptions, ServerHttp2Session } from "node:http2";
import type { SecureContextOptions } from "node:tls";
import { logError, recordConnectionAuth } from "../transport/index.js";
import { localAuthContext, tlsAuthContext } from "./auth-context.js";
import { toPem, type Pem } from "./channel-credentials.js";
import { isLoopbackAddress, LocalConnectionType } from "./local-connection-type.js";

/** A private key and its certificate chain, both PEM. */
export interface KeyCertPair {
  privateKey: Pem;
  certificateChain: Pem;
}

/** A key/certificate pair as an object or as gRPC Python's `(private_key, certificate_chain)` tuple. */
export type KeyCertPairInit = KeyCertPair | readonly [Pem, Pem];

/**
 * How a server port is secured (gRPC Python `grpc.ServerCredentials`); made by
 * `sslServerCredentials()`, `dynamicSslServerCredentials()` or
 * `localServerCredentials()`, passed to `server.addSecurePort()`.
 */
export class ServerCredentials {
  /** @internal */
  constructor(
    /** @internal TLS settings; undefined for local credentials. */
    readonly tls: SecureServerOptions | undefined,
    /** @internal Set for local credentials. */
    readonly local?: LocalConnectionType,
    /** @internal Certificate rotation: asked before each new connection's handshake. */
    readonly refreshTls?: () => SecureContextOptions | undefined,
  ) {}

  /**
   * @internal Whether to serve a connection just accepted (a local port refuses a peer
   * that is not local), recording what was verified about it for its calls.
   */
  admit(session: ServerHttp2Session): boolean {
    const socket = session.socket;
    if (this.local !== undefined) {
      const remote = socket.remoteAddress;
      // A unix socket's peer has no address.
      const ok = this.local === LocalConnectionType.UDS ? remote === undefined : remote !== undefined && isLoopbackAddress(remote);
      if (!ok) return false;
      recordConnectionAuth(session, localAuthContext());
      return true;
    }
    recordConnectionAuth(session, tlsAuthContext(socket));
    return true;
  }
}

/**
 * TLS server credentials (gRPC Python `grpc.ssl_server_credentials()`), with gRPC's
 * semantics for client certificates: with `requireClientAuth` the server asks every
 * client for a certificate and refuses, at the handshake, one without a certificate or
 * with one not signed by `rootCertificates`; without it the server does not ask for a
 * certificate at all (so `rootCertificates` alone changes nothing and no identity is
 * reported). `requireClientAuth` without `rootCertificates` is an error.
 */
export function sslServerCredentials(keyCertPairs: readonly KeyCertPairInit[], rootCertificates?: Pem, requireClientAuth = false): ServerCredentials {
  if (requireClientAuth && rootCertificates === undefined) {
    throw new TypeError("Illegal to require client auth without providing root certificates");
  }
  const tls: SecureServerOptions = { ...contextOptions(keyCertPairs, rootCertificates), ...clientAuth(requireClientAuth) };
  return new ServerCredentials(tls);
}

/** Key/certificate pairs and client CAs for `dynamicSslServerCredentials` (gRPC Python `grpc.ServerCertificateConfiguration`). */
export class ServerCertificateConfiguration {
  /** @internal */
  constructor(readonly context: SecureContextOptions) {}
}

/**
 * A certificate configuration (gRPC Python `grpc.ssl_server_certificate_configuration()`):
 * the server's key/certificate pairs and the CAs client certificates must chain to.
 */
export function sslServerCertificateConfiguration(keyCertPairs: readonly KeyCertPairInit[], rootCertificates?: Pem): ServerCertificateConfiguration {
  return new ServerCertificateConfiguration(contextOptions(keyCertPairs, rootCertificates));
}

/**
 * TLS server credentials whose certificates change without a restart (gRPC Python
 * `grpc.dynamic_ssl_server_credentials()`): `fetchConfiguration` is called before
 * the handshake of every new connection and returns a new configuration, or
 * undefined/null to keep the current one. New connections get the new certificate and
 * client-CA set; connections already open keep theirs. If it throws, the current
 * configuration stays (and the error is logged, as gRPC core does).
 */
export function dynamicSslServerCredentials(
  initialConfiguration: ServerCertificateConfiguration,
  fetchConfiguration: () => ServerCertificateConfiguration | undefined | null,
  requireClientAuthentication = false,
): ServerCredentials {
  if (!(initialConfiguration instanceof ServerCertificateConfiguration)) {
    throw new TypeError("dynamicSslServerCredentials takes a configuration from sslServerCertificateConfiguration()");
  }
  const tls: SecureServerOptions = { ...initialConfiguration.context, ...clientAuth(requireClientAuthentication) };
  return new ServerCredentials(tls, undefined, () => {
    let next: ServerCertificateConfiguration | undefined | null;
    try {
      next = fetchConfiguration();
    } catch (err) {
      logError("The certificate configuration fetcher failed; keeping the current certificates", err);
      return undefined;
    }
    if (next === undefined || next === null) return undefined;
    if (!(next instanceof ServerCertificateConfiguration)) {
      logError("The certificate configuration fetcher returned something other than sslServerCertificateConfiguration(); keeping the current certificates");
      return undefined;
    }
    // Node keeps the previous client CAs when a new context names none: an empty list clears them.
    return { ca: [], ...next.context };
  });
}

/**
 * Server credentials for local connections only (gRPC Python
 * `grpc.local_server_credentials()`): no TLS; the port serves Unix-socket peers
 * (`UDS`) or loopback TCP peers (`LOCAL_TCP`) and closes any other connection at once.
 */
export function localServerCredentials(localConnectionType: LocalConnectionType = LocalConnectionType.LOCAL_TCP): ServerCredentials {
  if (localConnectionType !== LocalConnectionType.UDS && localConnectionType !== LocalConnectionType.LOCAL_TCP) {
    throw new TypeError(`Unknown local connection type ${String(localConnectionType)}`);
  }
  return new ServerCredentials(undefined, localConnectionType);
}

function contextOptions(keyCertPairs: readonly KeyCertPairInit[], rootCertificates: Pem | undefined): SecureContextOptions {
  if (keyCertPairs.length === 0) throw new TypeError("TLS server credentials need at least one key/certificate pair");
  const pairs = keyCertPairs.map((p) => ("privateKey" in p ? p : { privateKey: p[0], certificateChain: p[1] }));
  const options: SecureContextOptions = {
    key: pairs.map((p) => toPem(p.privateKey)),
    cert: pairs.map((p) => toPem(p.certificateChain)),
  };
  if (rootCertificates !== undefined) options.ca = toPem(rootCertificates);
  return options;
}

// gRPC's two modes: REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, or DONT_REQUEST.
function clientAuth(require: boolean): SecureServerOptions {
  return require ? { requestCert: true, rejectUnauthorized: true } : { requestCert: false };
}
