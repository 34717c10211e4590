import { isIP } from "node:net";

/** Which local connections local credentials accept (gRPC Python `grpc.LocalConnectionType`). */
export enum LocalConnectionType {
  /** Unix domain sockets. */
  UDS = 0,
  /** TCP over the loopback interface (127.0.0.0/8, ::1). */
  LOCAL_TCP = 1,
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith("127.");
  return a === "::1" || a === "0:0:0:0:0:0:0:1";
}
