import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ConnectivityState } from "async-grpc";
import { isIP } from "node:net";
import {
  AddressSchema,
  ChannelConnectivityState_State as State,
  ChannelTraceEvent_Severity as Severity,
  type Address,
  type Channel,
  type ChannelData,
  type ChannelTrace,
  type Server,
  type Socket,
  type SocketRef,
  type Subchannel,
  ChannelSchema,
  ServerSchema,
  SocketSchema,
  SubchannelSchema,
  ChannelDataSchema,
  SecuritySchema,
  SocketRefSchema,
} from "./gen/grpc/channelz/v1/channelz_pb.js";
import type { CallCounts, ChannelNode, ChannelzRegistry, ListenSocketNode, ServerNode, SocketNode, SubchannelNode, Trace } from "./registry.js";

const STATES: Record<ConnectivityState, State> = {
  [ConnectivityState.IDLE]: State.IDLE,
  [ConnectivityState.CONNECTING]: State.CONNECTING,
  [ConnectivityState.READY]: State.READY,
  [ConnectivityState.TRANSIENT_FAILURE]: State.TRANSIENT_FAILURE,
  [ConnectivityState.SHUTDOWN]: State.SHUTDOWN,
};

const SEVERITIES = { info: Severity.CT_INFO, warning: Severity.CT_WARNING, error: Severity.CT_ERROR } as const;

// Unset (0) times stay unset rather than becoming the epoch.
function time(ms: number) {
  return ms === 0 ? undefined : timestampFromMs(ms);
}

function trace(t: Trace): MessageInitShape<typeof ChannelDataSchema>["trace"] {
  return {
    numEventsLogged: BigInt(t.logged),
    creationTimestamp: timestampFromMs(t.created),
    events: t.events.map((e) => ({
      description: e.description,
      severity: SEVERITIES[e.severity],
      timestamp: timestampFromMs(e.timestamp),
      childRef:
        e.child === undefined
          ? { case: undefined }
          : e.child.kind === "channel"
            ? { case: "channelRef", value: { channelId: BigInt(e.child.id), name: e.child.name } }
            : { case: "subchannelRef", value: { subchannelId: BigInt(e.child.id), name: e.child.name } },
    })),
  } as MessageInitShape<typeof ChannelDataSchema>["trace"];
}

function calls(c: CallCounts) {
  return {
    callsStarted: BigInt(c.started),
    callsSucceeded: BigInt(c.succeeded),
    callsFailed: BigInt(c.failed),
    lastCallStartedTimestamp: time(c.lastStarted),
  };
}

function channelData(target: string, state: ConnectivityState, c: CallCounts, t: Trace): ChannelData {
  return create(ChannelDataSchema, { state: { state: STATES[state] }, target, trace: trace(t) as ChannelTrace, ...calls(c) });
}

export function socketRef(s: SocketNode | ListenSocketNode): SocketRef {
  return create(SocketRefSchema, { socketId: BigInt(s.id), name: s.name });
}

export function channelMessage(ch: ChannelNode): Channel {
  return create(ChannelSchema, {
    ref: { channelId: BigInt(ch.id), name: ch.target },
    data: channelData(ch.target, ch.state(), ch.calls, ch.trace),
    subchannelRef: [...ch.subchannels].map((s) => ({ subchannelId: BigInt(s.id), name: s.address })),
  });
}

export function subchannelMessage(sub: SubchannelNode): Subchannel {
  return create(SubchannelSchema, {
    ref: { subchannelId: BigInt(sub.id), name: sub.address },
    data: channelData(sub.address, sub.state(), sub.calls, sub.trace),
    socketRef: [...sub.sockets].map(socketRef),
  });
}

export function serverMessage(registry: ChannelzRegistry, server: ServerNode): Server {
  return create(ServerSchema, {
    ref: { serverId: BigInt(server.id), name: "" },
    data: { trace: trace(server.trace), ...calls(server.calls) },
    listenSocket: registry.listenSocketsOf(server).map(socketRef),
  });
}

/** A socket; with `summary`, without the parts that cost a system call (TLS, windows). */
export function socketMessage(node: SocketNode | ListenSocketNode, summary: boolean): Socket {
  if (node.kind === "listen-socket") {
    return create(SocketSchema, { ref: socketRef(node), local: address(node.address) });
  }
  const info = node.info;
  const flow = summary ? undefined : info.flowControl();
  const security = summary ? undefined : info.security();
  const local = info.localAddress();
  const remote = info.remoteAddress();
  return create(SocketSchema, {
    ref: socketRef(node),
    data: {
      streamsStarted: BigInt(node.streamsStarted),
      streamsSucceeded: BigInt(node.streamsSucceeded),
      streamsFailed: BigInt(node.streamsFailed),
      messagesSent: BigInt(node.messagesSent),
      messagesReceived: BigInt(node.messagesReceived),
      keepAlivesSent: BigInt(info.keepalivesSent()),
      lastLocalStreamCreatedTimestamp: time(node.lastLocalStreamCreated),
      lastRemoteStreamCreatedTimestamp: time(node.lastRemoteStreamCreated),
      lastMessageSentTimestamp: time(node.lastMessageSent),
      lastMessageReceivedTimestamp: time(node.lastMessageReceived),
      localFlowControlWindow: flow?.localWindow === undefined ? undefined : BigInt(flow.localWindow),
      remoteFlowControlWindow: flow?.remoteWindow === undefined ? undefined : BigInt(flow.remoteWindow),
    },
    local: local === undefined ? undefined : address(local),
    remote: remote === undefined ? undefined : address(remote),
    remoteName: node.parent.kind === "subchannel" ? node.parent.address : "",
    security:
      security === undefined
        ? undefined
        : create(SecuritySchema, {
            model: {
              case: "tls",
              value: {
                cipherSuite: security.cipher === undefined ? { case: undefined } : { case: "standardName", value: security.cipher },
                localCertificate: security.localCertificate ?? new Uint8Array(),
                remoteCertificate: security.remoteCertificate ?? new Uint8Array(),
              },
            },
          }),
  });
}

function address(a: { address: string; port: number } | { path: string }): Address {
  if ("path" in a) return create(AddressSchema, { address: { case: "udsAddress", value: { filename: a.path } } });
  return create(AddressSchema, { address: { case: "tcpipAddress", value: { ipAddress: ipBytes(a.address), port: a.port } } });
}

/** An IP address in network byte order: 4 bytes for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6. */
export function ipBytes(ip: string): Uint8Array {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  if (isIP(ip) === 4) return new Uint8Array(ip.split(".").map(Number));
  if (isIP(ip) !== 6) return new Uint8Array();
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const parse = (part: string | undefined) => (part ? part.split(":") : []);
  let groups = parse(head);
  let rest = parse(tail);
  // A trailing dotted IPv4 part is two groups.
  const fix = (gs: string[]) => {
    const last = gs.at(-1);
    if (last !== undefined && last.includes(".")) {
      const b = last.split(".").map(Number);
      gs.splice(-1, 1, ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    }
    return gs;
  };
  groups = fix(groups);
  rest = fix(rest);
  const all = tail === undefined ? groups : [...groups, ...Array<string>(8 - groups.length - rest.length).fill("0"), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}
