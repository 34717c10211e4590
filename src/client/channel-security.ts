// What `secureChannel()`'s credentials mean for the channel's transport: TLS with the
// name to verify, or a plaintext connection that may only reach a local peer.
import type { SecureClientSessionOptions } from "node:http2";
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import { isLoopbackAddress, LocalConnectionType, type CallCredentials, type ChannelCredentials } from "../credentials/index.js";
import { OPT_SSL_TARGET_NAME_OVERRIDE, stringOption, type ChannelOptions } from "../transport/index.js";
import { parseTarget } from "./target.js";

/** @internal How the credentials layer configures a channel's transport. */
export interface TransportSecurity {
  secure: boolean;
  tls?: SecureClientSessionOptions;
  /** Overrides the `:authority` (e.g. from grpc.ssl_target_name_override). */
  authority?: string;
  /** Run before every call (from `compositeChannelCredentials()`). */
  callCredentials?: CallCredentials;
  /** TLS or local credentials: call credentials may be sent. */
  callCredentialsAllowed?: boolean;
}

/**
 * The transport security of a channel to `target` with `credentials`. The option
 * `grpc.ssl_target_name_override` names the host the server certificate must match
 * (and the `:authority`). Local credentials refuse a target that is not local.
 */
export function channelSecurity(target: string, credentials: ChannelCredentials, options: ChannelOptions): TransportSecurity {
  // A custom resolver's scheme has no host here: the override names the server, or nothing does.
  let parsed: ReturnType<typeof parseTarget> | undefined;
  try {
    parsed = parseTarget(target);
  } catch {
    parsed = undefined;
  }
  const callCredentials = credentials.callCredentials;
  if (credentials.local !== undefined) {
    if (parsed === undefined) throw new TypeError(`Local credentials need a unix: or loopback target, got ${target}`);
    const address = parsed.address;
    if (credentials.local === LocalConnectionType.UDS) {
      if (!("path" in address)) throw new TypeError(`Local credentials (UDS) need a unix: target, got ${target}`);
    } else if (!("host" in address) || !(address.host === "localhost" || isLoopbackAddress(address.host))) {
      throw new TypeError(`Local credentials (LOCAL_TCP) need a loopback target (127.0.0.0/8, [::1] or localhost), got ${target}`);
    }
    return { secure: false, callCredentials, callCredentialsAllowed: true };
  }
  const override = stringOption(options, OPT_SSL_TARGET_NAME_OVERRIDE);
  const host = parsed === undefined ? "" : "host" in parsed.address ? parsed.address.host : "localhost";
  const tls = { ...credentials.tls, servername: override ?? (host === "" || isIP(host) ? undefined : host) };
  if (override !== undefined) {
    // Node checks the certificate against `servername`, which carries the override.
    tls.checkServerIdentity = (_host: string, cert) => checkServerIdentity(override, cert);
  }
  return { secure: true, tls, authority: override, callCredentials, callCredentialsAllowed: true };
}
