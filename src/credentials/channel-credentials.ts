import type { SecureClientSessionOptions } from "node:http2";
import type { CallCredentials } from "./call-credentials.js";
import { compositeCallCredentials } from "./call-credentials.js";
import type { LocalConnectionType } from "./local-connection-type.js";

/** PEM data as a string or bytes. */
export type Pem = string | Uint8Array;

/**
 * How a channel secures its connection (gRPC Python `grpc.ChannelCredentials`):
 * TLS (`sslChannelCredentials()`) or local (`localChannelCredentials()`), possibly with
 * call credentials for every call (`compositeChannelCredentials()`). Passed to
 * `secureChannel()`.
 */
export class ChannelCredentials {
  /** @internal */
  constructor(
    /** @internal TLS settings; undefined for local credentials. */
    readonly tls: SecureClientSessionOptions | undefined,
    /** @internal Set for local credentials. */
    readonly local?: LocalConnectionType,
    /** @internal Run before every call on the channel. */
    readonly callCredentials?: CallCredentials,
  ) {}
}

/** How a TLS channel checks the server's certificate (grpc-js's `VerifyOptions`). */
export interface VerifyOptions {
  /**
   * false accepts any server certificate: encryption without authentication, for
   * debugging tools (the command line's `--insecure`), never for production. Default true.
   */
  rejectUnauthorized?: boolean;
}

/**
 * TLS credentials (gRPC Python `grpc.ssl_channel_credentials()`): trust
 * `rootCertificates` (the system's roots if omitted) and, for mutual TLS, present
 * `privateKey` with `certificateChain`. `verifyOptions` is grpc-js's; gRPC Python has none.
 */
export function sslChannelCredentials(rootCertificates?: Pem, privateKey?: Pem, certificateChain?: Pem, verifyOptions?: VerifyOptions): ChannelCredentials {
  if ((privateKey === undefined) !== (certificateChain === undefined)) {
    throw new TypeError("sslChannelCredentials: privateKey and certificateChain go together");
  }
  const tls: SecureClientSessionOptions = { ALPNProtocols: ["h2"] };
  if (verifyOptions?.rejectUnauthorized === false) tls.rejectUnauthorized = false;
  if (rootCertificates !== undefined) tls.ca = toPem(rootCertificates);
  if (privateKey !== undefined) tls.key = toPem(privateKey);
  if (certificateChain !== undefined) tls.cert = toPem(certificateChain);
  return new ChannelCredentials(tls);
}

/**
 * Channel credentials that also run `callCredentials` before every call (gRPC Python
 * `grpc.composite_channel_credentials()`).
 */
export function compositeChannelCredentials(channelCredentials: ChannelCredentials, ...callCredentials: CallCredentials[]): ChannelCredentials {
  if (callCredentials.length === 0) throw new TypeError("compositeChannelCredentials takes at least one call credentials");
  const all = channelCredentials.callCredentials === undefined ? callCredentials : [channelCredentials.callCredentials, ...callCredentials];
  return new ChannelCredentials(channelCredentials.tls, channelCredentials.local, all.length === 1 ? all[0] : compositeCallCredentials(...all));
}

export function toPem(value: Pem): string | Buffer {
  return typeof value === "string" ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
