import { ChannelCredentials } from "./channel-credentials.js";
import { LocalConnectionType } from "./local-connection-type.js";

/**
 * Channel credentials for local connections (gRPC Python `grpc.local_channel_credentials()`):
 * no TLS, but the channel only connects to a Unix socket (`UDS`, a `unix:` target) or
 * a loopback address (`LOCAL_TCP`: 127.0.0.0/8, ::1, localhost), and call credentials
 * may be used on it. Passed to `secureChannel()`.
 */
export function localChannelCredentials(localConnectionType: LocalConnectionType = LocalConnectionType.LOCAL_TCP): ChannelCredentials {
  if (localConnectionType !== LocalConnectionType.UDS && localConnectionType !== LocalConnectionType.LOCAL_TCP) {
    throw new TypeError(`Unknown local connection type ${String(localConnectionType)}`);
  }
  return new ChannelCredentials(undefined, localConnectionType);
}
