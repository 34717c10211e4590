import { Metadata, type MetadataInit } from "../wire/index.js";

/**
 * What a call-credentials plugin is told about the call it authorizes (gRPC Python
 * `grpc.AuthMetadataContext`): `serviceUrl` is the scheme, authority and service
 * ("https://host:port/package.Service"), `methodName` the bare method name.
 */
export interface AuthMetadataContext {
  readonly serviceUrl: string;
  readonly methodName: string;
}

/**
 * Produces the metadata that authorizes one call (gRPC Python `grpc.AuthMetadataPlugin`,
 * as an async function instead of a callback). `signal` aborts when the call ends
 * first (cancelled, deadline, channel closed): a plugin doing I/O should stop then.
 * Throwing fails the call with `UNAVAILABLE` and the error's message.
 */
export type AuthMetadataPlugin = (context: AuthMetadataContext, signal: AbortSignal) => MetadataInit | Promise<MetadataInit>;

/**
 * Per-call credentials (gRPC Python `grpc.CallCredentials`): plugins run in order before
 * a call's headers go out, and their metadata is added to the call's. Made by
 * `metadataCallCredentials()`, `accessTokenCallCredentials()` and
 * `compositeCallCredentials()`; used on a channel through
 * `compositeChannelCredentials()` or on one call with the `credentials` option. They are
 * sent only over TLS or local credentials, never plaintext TCP.
 */
export class CallCredentials {
  /** @internal */
  constructor(readonly plugins: readonly AuthMetadataPlugin[]) {}

  /**
   * @internal Runs every plugin, in order, and returns their metadata in one object.
   * Rejects with a `CallCredentialsError` whose message is the one gRPC gives.
   */
  async generateMetadata(context: AuthMetadataContext, signal: AbortSignal): Promise<Metadata> {
    const out = new Metadata();
    for (const plugin of this.plugins) {
      let init: MetadataInit;
      try {
        init = await plugin(context, signal);
      } catch (err) {
        throw new CallCredentialsError(`Getting metadata from plugin failed with error: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      signal.throwIfAborted();
      try {
        out.merge(init instanceof Metadata ? init : new Metadata(init));
      } catch (err) {
        throw new CallCredentialsError(`Illegal metadata: ${err instanceof Error ? err.message : String(err)}`, err);
      }
    }
    return out;
  }
}

/** @internal Why call credentials produced no metadata; the call fails with UNAVAILABLE. */
export class CallCredentialsError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "CallCredentialsError";
  }
}

/**
 * Call credentials from a plugin (gRPC Python `grpc.metadata_call_credentials()`).
 * The plugin runs before every call made with them.
 */
export function metadataCallCredentials(plugin: AuthMetadataPlugin): CallCredentials {
  if (typeof plugin !== "function") throw new TypeError("metadataCallCredentials takes a function (context, signal) => metadata");
  return new CallCredentials([plugin]);
}

/**
 * Call credentials that send `authorization: Bearer <token>` (gRPC Python
 * `grpc.access_token_call_credentials()`).
 */
export function accessTokenCallCredentials(accessToken: string): CallCredentials {
  const metadata = new Metadata({ authorization: `Bearer ${accessToken}` });
  return new CallCredentials([() => metadata]);
}

/** Call credentials that run each of `credentials` in turn (gRPC Python `grpc.composite_call_credentials()`). */
export function compositeCallCredentials(...credentials: CallCredentials[]): CallCredentials {
  if (credentials.length < 2) throw new TypeError("compositeCallCredentials takes at least two call credentials");
  return new CallCredentials(credentials.flatMap((c) => c.plugins));
}
