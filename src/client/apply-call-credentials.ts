// Call credentials run here, once per call, before the call asks its channel for a
// connection: their metadata joins the call's, or the call fails without being sent.
import { CallCredentials, CallCredentialsError, type AuthMetadataContext } from "../credentials/index.js";
import { Metadata, StatusCode } from "../wire/index.js";

/** What running call credentials needs from a channel. */
export interface CallCredentialsHost {
  readonly scheme: "http" | "https";
  readonly authority: string;
  /** Run before every call on the channel (from `compositeChannelCredentials()`). */
  readonly callCredentials: CallCredentials | undefined;
  /** True over TLS or local credentials; call credentials are never sent over plaintext TCP. */
  readonly callCredentialsAllowed: boolean;
}

/** What running call credentials needs from a call. */
export interface AuthorizedCall {
  addDoneCallback(callback: () => void): void;
  done(): boolean;
}

/** The channel's call credentials followed by the call's own (gRPC core composes them the same way). */
export function callCredentialsFor(host: CallCredentialsHost, perCall: CallCredentials | undefined): CallCredentials | undefined {
  if (perCall !== undefined && !(perCall instanceof CallCredentials)) {
    throw new TypeError("The credentials option takes call credentials (metadataCallCredentials(), accessTokenCallCredentials(), ...)");
  }
  const channel = host.callCredentials;
  if (perCall === undefined) return channel;
  if (channel === undefined) return perCall;
  return new CallCredentials([...channel.plugins, ...perCall.plugins]);
}

/** The context plugins see: gRPC's service URL ("https://host:port/package.Service") and the method name. */
export function authMetadataContext(host: CallCredentialsHost, path: string): AuthMetadataContext {
  const slash = path.lastIndexOf("/");
  let authority = host.authority;
  // gRPC leaves the default port out of the service URL.
  if (host.scheme === "https" && authority.endsWith(":443")) authority = authority.slice(0, -4);
  return { serviceUrl: `${host.scheme}://${authority}${path.slice(0, slash)}`, methodName: path.slice(slash + 1) };
}

/**
 * Runs `credentials` for a call to `path`, then `start(metadata)`, or `fail(code,
 * details)`: UNAUTHENTICATED on a plaintext channel (as gRPC), UNAVAILABLE when a
 * plugin throws or returns bad metadata. The plugins' signal aborts when the call ends
 * first (cancel, deadline); a plugin that never settles then leaves nothing behind.
 */
export function applyCallCredentials(
  host: CallCredentialsHost,
  credentials: CallCredentials,
  path: string,
  call: AuthorizedCall,
  start: (metadata: Metadata) => void,
  fail: (code: StatusCode, details: string, cause?: unknown) => void,
): void {
  if (!host.callCredentialsAllowed) {
    fail(StatusCode.UNAUTHENTICATED, "Established channel does not have a sufficient security level to transfer call credential.");
    return;
  }
  const controller = new AbortController();
  call.addDoneCallback(() => controller.abort(new Error("The call ended before its call credentials were ready")));
  credentials.generateMetadata(authMetadataContext(host, path), controller.signal).then(
    (metadata) => {
      if (!call.done()) start(metadata);
    },
    (err: unknown) => {
      if (call.done()) return;
      const details = err instanceof CallCredentialsError ? err.message : `Getting metadata from plugin failed with error: ${err instanceof Error ? err.message : String(err)}`;
      fail(StatusCode.UNAVAILABLE, details, err);
    },
  );
}

/** The call's metadata with the credentials' appended (the caller's object is left as it was). */
export function withCredentialMetadata(metadata: Metadata | undefined, credentials: Metadata): Metadata {
  if (credentials.size === 0 && metadata !== undefined) return metadata;
  return metadata === undefined ? credentials : metadata.clone().merge(credentials);
}
