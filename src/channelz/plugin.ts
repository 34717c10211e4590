import {
  ConnectivityState,
  StatusCode,
  type CallObserver,
  type ChannelObserver,
  type ConnectionInfo,
  type ConnectionObserver,
  type InstrumentationPlugin,
  type ServerObserver,
} from "async-grpc";
import { ChannelNode, ServerNode, SocketNode, SubchannelNode, type ChannelzRegistry } from "./registry.js";

const OPT_ENABLE_CHANNELZ = "grpc.enable_channelz";

function enabled(options: Readonly<Record<string, unknown>>): boolean {
  const v = options[OPT_ENABLE_CHANNELZ];
  return v === 1 || v === true || v === "1";
}

/**
 * The instrumentation plugin that feeds `registry`: it observes the channels and
 * servers whose options set `grpc.enable_channelz` to 1, and nothing else.
 */
export function channelzPlugin(registry: ChannelzRegistry): InstrumentationPlugin {
  return {
    onChannel(info) {
      if (!enabled(info.options)) return undefined;
      const node = new ChannelNode(registry.nextId(), info.target, info.state);
      registry.channels.set(node.id, node);
      node.trace.add("Channel created");
      return channelObserver(registry, node);
    },
    onServer(info) {
      if (!enabled(info.options)) return undefined;
      const node = new ServerNode(registry.nextId(), info.listenAddresses);
      registry.servers.set(node.id, node);
      node.trace.add("Server created");
      return serverObserver(registry, node);
    },
  };
}

function channelObserver(registry: ChannelzRegistry, channel: ChannelNode): ChannelObserver {
  return {
    onCallStarted: () => new ClientCallObserver(channel),
    onSubchannel(info) {
      const sub = new SubchannelNode(registry.nextId(), info.address, info.state);
      registry.subchannels.set(sub.id, sub);
      channel.subchannels.add(sub);
      sub.trace.add("Subchannel created");
      channel.trace.add("Child subchannel created", "info", { kind: "subchannel", id: sub.id, name: sub.address });
      return {
        onConnection: (c) => socketObserver(registry, c, sub, sub.address),
        onStateChange: (state) => sub.trace.add(`Subchannel state changed to ${ConnectivityState[state]}`),
      };
    },
    onStateChange: (state) => channel.trace.add(`Channel state changed to ${ConnectivityState[state]}`),
    onClose: () => registry.removeChannel(channel),
  };
}

function serverObserver(registry: ChannelzRegistry, server: ServerNode): ServerObserver {
  return {
    onCallStarted(_method, connection) {
      return new ServerCallObserver(server, connection instanceof SocketObserver ? connection.node : undefined);
    },
    onConnection(c) {
      const remote = c.remoteAddress();
      const name = remote === undefined ? "" : "path" in remote ? `unix:${remote.path}` : `${remote.address}:${remote.port}`;
      return socketObserver(registry, c, server, name);
    },
    onStop: () => registry.removeServer(server),
  };
}

/** The ConnectionObserver of a socket: channelz's own class, so calls recognise it. */
class SocketObserver implements ConnectionObserver {
  constructor(
    readonly node: SocketNode,
    private readonly registry: ChannelzRegistry,
  ) {}

  onStreamStarted(): void {
    const n = this.node;
    n.streamsStarted++;
    if (n.info.side === "client") n.lastLocalStreamCreated = Date.now();
    else n.lastRemoteStreamCreated = Date.now();
  }

  onStreamEnded(ok: boolean): void {
    if (ok) this.node.streamsSucceeded++;
    else this.node.streamsFailed++;
  }

  onClose(): void {
    this.registry.sockets.delete(this.node.id);
    this.node.parent.sockets.delete(this.node);
  }
}

function socketObserver(registry: ChannelzRegistry, info: ConnectionInfo, parent: SubchannelNode | ServerNode, name: string): SocketObserver {
  const node = new SocketNode(registry.nextId(), name, info, parent);
  registry.sockets.set(node.id, node);
  parent.sockets.add(node);
  return new SocketObserver(node, registry);
}

function sent(socket: SocketNode, n: number): void {
  socket.messagesSent += n;
  socket.lastMessageSent = Date.now();
}

function received(socket: SocketNode): void {
  socket.messagesReceived++;
  socket.lastMessageReceived = Date.now();
}

class ClientCallObserver implements CallObserver {
  private socket: SocketNode | undefined;
  private subchannel: SubchannelNode | undefined;
  // A unary request is serialized before the call has a connection.
  private unattributedSent = 0;

  constructor(private readonly channel: ChannelNode) {
    channel.calls.start();
  }

  onTransport(connection: ConnectionObserver | undefined): void {
    if (!(connection instanceof SocketObserver)) return;
    const socket = connection.node;
    this.socket = socket;
    // A transparent retry: the first attempt's stream was refused.
    this.subchannel?.calls.end(false);
    this.subchannel = undefined;
    if (socket.parent.kind === "subchannel") {
      this.subchannel = socket.parent;
      socket.parent.calls.start();
    }
    if (this.unattributedSent > 0) {
      sent(socket, this.unattributedSent);
      this.unattributedSent = 0;
    }
  }

  onMessageSent(): void {
    if (this.socket) sent(this.socket, 1);
    else this.unattributedSent++;
  }

  onMessageReceived(): void {
    if (this.socket) received(this.socket);
  }

  onEnd(code: StatusCode): void {
    this.channel.calls.end(code === StatusCode.OK);
    this.subchannel?.calls.end(code === StatusCode.OK);
  }
}

class ServerCallObserver implements CallObserver {
  constructor(
    private readonly server: ServerNode,
    private readonly socket: SocketNode | undefined,
  ) {
    server.calls.start();
  }

  onMessageSent(): void {
    if (this.socket) sent(this.socket, 1);
  }

  onMessageReceived(): void {
    if (this.socket) received(this.socket);
  }

  onEnd(code: StatusCode): void {
    this.server.calls.end(code === StatusCode.OK);
  }
}
