// async-grpc: the public surface of the async core.
export {
  StatusCode,
  Metadata,
  RpcError,
  BaseError,
  UsageError,
  InternalError,
  EOF,
  memberName,
  type MemberName,
  type MetadataValue,
  type MetadataInit,
  type GrpcStatus,
} from "./wire/index.js";
export {
  ConnectivityState,
  registerInstrumentation,
  type ChannelOptions,
  type SocketAddress,
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
} from "./transport/index.js";
export {
  ChannelCredentials,
  sslChannelCredentials,
  compositeChannelCredentials,
  localChannelCredentials,
  LocalConnectionType,
  CallCredentials,
  metadataCallCredentials,
  accessTokenCallCredentials,
  compositeCallCredentials,
  ServerCredentials,
  ServerCertificateConfiguration,
  sslServerCredentials,
  sslServerCertificateConfiguration,
  dynamicSslServerCredentials,
  localServerCredentials,
  type Pem,
  type KeyCertPair,
  type KeyCertPairInit,
  type AuthMetadataContext,
  type AuthMetadataPlugin,
  type AuthContext,
} from "./credentials/index.js";
export * from "./client/index.js";
export * from "./server/index.js";
export * from "./protos/index.js";
export { VERSION } from "./version.js";
