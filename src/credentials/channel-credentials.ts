import type { SecureClientSessionOptions } from "node:http2";

/** PEM data as a string or bytes. */
export type Pem = string | Uint8Array;

/**
 * How a channel secures its connection (gRPC Python `grpc.ChannelCredentials`).
 * Made by `sslChannelCredentials()`; passed to `secureChannel()`.
 */
export class ChannelCredentials {
  /** @internal */
  constructor(readonly tls: SecureClientSessionOptions) {}
}

/**
 * TLS credentials (gRPC Python `grpc.ssl_channel_credentials()`): trust
 * `rootCertificates` (the system's roots if omitted) and, for mutual TLS, present
 * `privateKey` with `certificateChain`.
 */
export function sslChannelCredentials(rootCertificates?: Pem, privateKey?: Pem, certificateChain?: Pem): ChannelCredentials {
  if ((privateKey === undefined) !== (certificateChain === undefined)) {
    throw new TypeError("sslChannelCredentials: privateKey and certificateChain go together");
  }
  const tls: SecureClientSessionOptions = { ALPNProtocols: ["h2"] };
  if (rootCertificates !== undefined) tls.ca = toPem(rootCertificates);
  if (privateKey !== undefined) tls.key = toPem(privateKey);
  if (certificateChain !== undefined) tls.cert = toPem(certificateChain);
  return new ChannelCredentials(tls);
}

export function toPem(value: Pem): string | Buffer {
  return typeof value === "string" ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
