// The HTTP/2 transport: the only layer that imports node:http2.
export { ConnectivityState } from "./connectivity-state.js";
export { ClientConnection, type ConnectionConfig, type SocketAddress } from "./client-connection.js";
export { ServerListener, type ListenerConfig } from "./server-listener.js";
export type {
  ClientStream,
  ClientStreamListener,
  ClientTransport,
  ConnectionAuth,
  IncomingHeaders,
  OutgoingHeaders,
  ServerStream,
  ServerStreamListener,
  StreamAcceptor,
  StreamCloseReason,
  StreamReset,
} from "./call-stream.js";
export { ReportingSink } from "./reporting-sink.js";
export { recordConnectionAuth } from "./connection-auth.js";
export { MessageQueue, type MessageDecoding, type QueueOwner } from "./message-queue.js";
export { MessageWriter, HAS_ROOM, encodeMessage, endWithFrame, handled, reportSent, writeFrame, type Frame, type FrameSink, type ReplayBudget } from "./message-writer.js";
export { MessageReader, type MessageParser, type MessageSink } from "./message-reader.js";
export { trace, logDebug, logError } from "./trace.js";
export * from "./options.js";
export { http2Constants, RESPOND_WITH_TRAILERS, RESPOND_END_STREAM } from "./http2-constants.js";
export { DeadlineTimer } from "./deadline-timer.js";
export { systemClock, type Clock, type TimerHandle } from "./clock.js";
export { Backoff } from "./backoff.js";
export {
  registerInstrumentation,
  instrumented,
  observeChannel,
  observeServer,
  type InstrumentationPlugin,
  type ChannelInfo,
  type ChannelObserver,
  type SubchannelInfo,
  type SubchannelObserver,
  type ServerInfo,
  type ServerObserver,
  type ConnectionInfo,
  type ConnectionObserver,
  type CallObserver,
  type ServerCallInfo,
} from "./instrumentation.js";
export { connectionInfo } from "./connection-info.js";
