/** The five connectivity states of a channel (gRPC Python `grpc.ChannelConnectivity`). */
export enum ConnectivityState {
  IDLE = 0,
  CONNECTING = 1,
  READY = 2,
  TRANSIENT_FAILURE = 3,
  SHUTDOWN = 4,
}
