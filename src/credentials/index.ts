// Transport security: channel credentials for clients, server credentials for ports.
export { ChannelCredentials, sslChannelCredentials, type Pem } from "./channel-credentials.js";
export { ServerCredentials, sslServerCredentials, type KeyCertPair } from "./server-credentials.js";
