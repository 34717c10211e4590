import type { ConnectionInfo, ConnectivityState } from "async-grpc";

/** How many trace events an entity keeps (the oldest go first), as gRPC core bounds its traces. */
export const MAX_TRACE_EVENTS = 32;

export type Severity = "info" | "warning" | "error";

export interface TraceEvent {
  readonly description: string;
  readonly severity: Severity;
  readonly timestamp: number;
  readonly child?: { kind: "channel" | "subchannel"; id: number; name: string };
}

/** A bounded trace of what happened to an entity. */
export class Trace {
  readonly created = Date.now();
  logged = 0;
  readonly events: TraceEvent[] = [];

  add(description: string, severity: Severity = "info", child?: TraceEvent["child"]): void {
    this.logged++;
    this.events.push({ description, severity, timestamp: Date.now(), child });
    if (this.events.length > MAX_TRACE_EVENTS) this.events.shift();
  }
}

/** Calls started / succeeded / failed, as channels, subchannels and servers count them. */
export class CallCounts {
  started = 0;
  succeeded = 0;
  failed = 0;
  lastStarted = 0;

  start(): void {
    this.started++;
    this.lastStarted = Date.now();
  }

  end(ok: boolean): void {
    if (ok) this.succeeded++;
    else this.failed++;
  }
}

export class ChannelNode {
  readonly kind = "channel";
  readonly calls = new CallCounts();
  readonly trace = new Trace();
  readonly subchannels = new Set<SubchannelNode>();
  constructor(
    readonly id: number,
    readonly target: string,
    readonly state: () => ConnectivityState,
  ) {}
}

export class SubchannelNode {
  readonly kind = "subchannel";
  readonly calls = new CallCounts();
  readonly trace = new Trace();
  readonly sockets = new Set<SocketNode>();
  constructor(
    readonly id: number,
    readonly address: string,
    readonly state: () => ConnectivityState,
  ) {}
}

export class ServerNode {
  readonly kind = "server";
  readonly calls = new CallCounts();
  readonly trace = new Trace();
  /** Accepted connections. */
  readonly sockets = new Set<SocketNode>();
  /** Listening sockets, by address, given ids when first seen. */
  readonly listenSockets = new Map<string, ListenSocketNode>();
  constructor(
    readonly id: number,
    readonly listenAddresses: () => ({ address: string; port: number } | { path: string })[],
  ) {}
}

/** One HTTP/2 connection, client or server side. */
export class SocketNode {
  readonly kind = "socket";
  streamsStarted = 0;
  streamsSucceeded = 0;
  streamsFailed = 0;
  messagesSent = 0;
  messagesReceived = 0;
  lastLocalStreamCreated = 0;
  lastRemoteStreamCreated = 0;
  lastMessageSent = 0;
  lastMessageReceived = 0;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly info: ConnectionInfo,
    readonly parent: SubchannelNode | ServerNode,
  ) {}
}

/** A server's listening socket: an address and nothing to count. */
export class ListenSocketNode {
  readonly kind = "listen-socket";
  constructor(
    readonly id: number,
    readonly name: string,
    readonly address: { address: string; port: number } | { path: string },
  ) {}
}

export type Node = ChannelNode | SubchannelNode | ServerNode | SocketNode | ListenSocketNode;

/**
 * Every tracked entity by id. Ids come from one counter, as in gRPC core, and are
 * never reused; an entity leaves when it closes (channel closed, server stopped,
 * connection gone), so the registry holds what is alive.
 */
export class ChannelzRegistry {
  #nextId = 1;
  readonly channels = new Map<number, ChannelNode>();
  readonly subchannels = new Map<number, SubchannelNode>();
  readonly servers = new Map<number, ServerNode>();
  readonly sockets = new Map<number, SocketNode | ListenSocketNode>();

  nextId(): number {
    return this.#nextId++;
  }

  /** The listening sockets of `server` as bound now; each address keeps its id. */
  listenSocketsOf(server: ServerNode): ListenSocketNode[] {
    const out: ListenSocketNode[] = [];
    for (const address of server.listenAddresses()) {
      const key = "path" in address ? `unix:${address.path}` : `${address.address}:${address.port}`;
      let node = server.listenSockets.get(key);
      if (node === undefined) {
        node = new ListenSocketNode(this.nextId(), key, address);
        server.listenSockets.set(key, node);
        this.sockets.set(node.id, node);
      }
      out.push(node);
    }
    return out;
  }

  removeServer(server: ServerNode): void {
    this.servers.delete(server.id);
    for (const l of server.listenSockets.values()) this.sockets.delete(l.id);
    for (const s of server.sockets) this.sockets.delete(s.id);
  }

  removeChannel(channel: ChannelNode): void {
    this.channels.delete(channel.id);
    for (const sub of channel.subchannels) {
      this.subchannels.delete(sub.id);
      for (const s of sub.sockets) this.sockets.delete(s.id);
    }
  }
}

/** Entries of `map` with id >= `start`, in id order, at most `max`; `end` when nothing is left after them. */
export function page<T>(map: ReadonlyMap<number, T>, start: number, max: number): { items: T[]; end: boolean } {
  const ids = [...map.keys()].filter((id) => id >= start).sort((a, b) => a - b);
  const taken = ids.slice(0, max);
  return { items: taken.map((id) => map.get(id)!), end: taken.length === ids.length };
}
