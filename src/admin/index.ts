// async-grpc/admin: the admin services in one call (gRPC Python's `grpc_admin`).
import type { Server } from "async-grpc";
import { addChannelzServicer } from "../channelz/index.js";

/**
 * Registers the admin services on `server` (gRPC Python `grpc_admin.add_admin_servicers()`):
 * channelz, which this also enables. CSDS joins them when an xDS client exists; there
 * is none yet.
 */
export function addAdminServicers(server: Server): void {
  addChannelzServicer(server);
}
