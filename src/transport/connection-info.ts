import type { Http2Session } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { ConnectionInfo } from "./instrumentation.js";

/**
 * The `ConnectionInfo` of a Node HTTP/2 session: addresses, TLS and windows are read
 * from the session when asked; `keepalivesSent` from whoever pings on it.
 */
export function connectionInfo(session: Http2Session, side: "client" | "server", keepalivesSent: () => number): ConnectionInfo {
  return {
    side,
    localAddress() {
      const socket = session.socket;
      if (!socket) return undefined;
      if (socket.localAddress !== undefined) return { address: socket.localAddress, port: socket.localPort ?? 0 };
      return undefined;
    },
    remoteAddress() {
      const socket = session.socket;
      if (!socket) return undefined;
      if (socket.remoteAddress !== undefined) return { address: socket.remoteAddress, port: socket.remotePort ?? 0 };
      return undefined;
    },
    security() {
      const socket = session.socket as TLSSocket | undefined;
      if (!socket || !("encrypted" in socket) || socket.encrypted !== true) return undefined;
      const local = socket.getCertificate();
      const remote = socket.getPeerCertificate();
      return {
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName,
        localCertificate: local !== null && "raw" in local ? new Uint8Array(local.raw) : undefined,
        remoteCertificate: remote !== null && "raw" in remote && remote.raw !== undefined ? new Uint8Array(remote.raw) : undefined,
      };
    },
    keepalivesSent,
    flowControl() {
      let state: { localWindowSize?: number; remoteWindowSize?: number } = {};
      try {
        state = session.state;
      } catch {
        // A destroyed session has no state.
      }
      return { localWindow: state.localWindowSize, remoteWindow: state.remoteWindowSize };
    },
  };
}
