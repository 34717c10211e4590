// Transport security: channel credentials for clients, server credentials for ports,
// call credentials for calls, and what a server verified about a connection.
export { ChannelCredentials, sslChannelCredentials, compositeChannelCredentials, type Pem, type VerifyOptions } from "./channel-credentials.js";
export {
  CallCredentials,
  CallCredentialsError,
  metadataCallCredentials,
  accessTokenCallCredentials,
  compositeCallCredentials,
  type AuthMetadataContext,
  type AuthMetadataPlugin,
} from "./call-credentials.js";
export { LocalConnectionType, isLoopbackAddress } from "./local-connection-type.js";
export { localChannelCredentials } from "./local-credentials.js";
export {
  ServerCredentials,
  ServerCertificateConfiguration,
  sslServerCredentials,
  sslServerCertificateConfiguration,
  dynamicSslServerCredentials,
  localServerCredentials,
  type KeyCertPair,
  type KeyCertPairInit,
} from "./server-credentials.js";
export { authContextOf, peerIdentitiesOf, peerIdentityKeyOf, type AuthContext } from "./auth-context.js";
