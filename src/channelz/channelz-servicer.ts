import { registerInstrumentation, RpcError, StatusCode, type Server } from "async-grpc";
import type { ChannelzServicer as ChannelzServicerInterface } from "./gen/grpc/channelz/v1/channelz_grpc.js";
import { addChannelzServicerToServer } from "./gen/grpc/channelz/v1/channelz_grpc.js";
import type {
  GetChannelRequest,
  GetServerRequest,
  GetServerSocketsRequest,
  GetServersRequest,
  GetSocketRequest,
  GetSubchannelRequest,
  GetTopChannelsRequest,
} from "./gen/grpc/channelz/v1/channelz_pb.js";
import { channelzPlugin } from "./plugin.js";
import { ChannelzRegistry, page } from "./registry.js";
import { channelMessage, serverMessage, socketMessage, socketRef, subchannelMessage } from "./to-proto.js";

/** Results per page when a request leaves `max_results` at 0 (as grpc-go). */
export const DEFAULT_MAX_RESULTS = 100;

/** The registry every channel and server with `grpc.enable_channelz` reports to, once channelz is enabled. */
export const channelzRegistry = new ChannelzRegistry();
let unregister: (() => void) | undefined;

/**
 * Starts collecting channelz data: from now on, channels made with the option
 * `grpc.enable_channelz: 1` and servers with it (when they bind their first port) are
 * tracked. Idempotent. `addChannelzServicer()` and `addAdminServicers()` call it.
 */
export function enableChannelz(): void {
  unregister ??= registerInstrumentation(channelzPlugin(channelzRegistry));
}

/** Stops collecting for channels and servers made from now on (those tracked stay). */
export function disableChannelz(): void {
  unregister?.();
  unregister = undefined;
}

function limit(max: bigint): number {
  return max <= 0n ? DEFAULT_MAX_RESULTS : Number(max > 10_000n ? 10_000n : max);
}

function id(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** The `grpc.channelz.v1.Channelz` service over `registry` (gRPC Python `grpc_channelz.v1.channelz`'s servicer). */
export class ChannelzServicer implements ChannelzServicerInterface {
  constructor(private readonly registry: ChannelzRegistry = channelzRegistry) {}

  getTopChannels(request: GetTopChannelsRequest) {
    const { items, end } = page(this.registry.channels, id(request.startChannelId), limit(request.maxResults));
    return { channel: items.map(channelMessage), end };
  }

  getServers(request: GetServersRequest) {
    const { items, end } = page(this.registry.servers, id(request.startServerId), limit(request.maxResults));
    return { server: items.map((s) => serverMessage(this.registry, s)), end };
  }

  getServer(request: GetServerRequest) {
    const server = this.registry.servers.get(id(request.serverId));
    if (server === undefined) throw new RpcError(StatusCode.NOT_FOUND, `No server with id ${request.serverId}`);
    return { server: serverMessage(this.registry, server) };
  }

  getServerSockets(request: GetServerSocketsRequest) {
    const server = this.registry.servers.get(id(request.serverId));
    if (server === undefined) throw new RpcError(StatusCode.NOT_FOUND, `No server with id ${request.serverId}`);
    const byId = new Map([...server.sockets].map((s) => [s.id, s]));
    const { items, end } = page(byId, id(request.startSocketId), limit(request.maxResults));
    return { socketRef: items.map(socketRef), end };
  }

  getChannel(request: GetChannelRequest) {
    const channel = this.registry.channels.get(id(request.channelId));
    if (channel === undefined) throw new RpcError(StatusCode.NOT_FOUND, `No channel with id ${request.channelId}`);
    return { channel: channelMessage(channel) };
  }

  getSubchannel(request: GetSubchannelRequest) {
    const subchannel = this.registry.subchannels.get(id(request.subchannelId));
    if (subchannel === undefined) throw new RpcError(StatusCode.NOT_FOUND, `No subchannel with id ${request.subchannelId}`);
    return { subchannel: subchannelMessage(subchannel) };
  }

  getSocket(request: GetSocketRequest) {
    const socket = this.registry.sockets.get(id(request.socketId));
    if (socket === undefined) throw new RpcError(StatusCode.NOT_FOUND, `No socket with id ${request.socketId}`);
    return { socket: socketMessage(socket, request.summary) };
  }
}

/**
 * Serves channelz on `server` and enables collection (gRPC Python
 * `grpc_channelz.v1.channelz.add_channelz_servicer(server)`).
 */
export function addChannelzServicer(server: Server): void {
  enableChannelz();
  addChannelzServicerToServer(new ChannelzServicer(), server);
}
