// async-grpc: the public surface of the async core.
export {
  StatusCode,
  Metadata,
  RpcError,
  EOF,
  type MemberName,
  type MetadataValue,
  type MetadataInit,
} from "./wire/index.js";
export { ConnectivityState, type ChannelOptions } from "./transport/index.js";
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
