// The channel the flags describe: plaintext or TLS (verified against the system's
// roots or --cacert, or not verified with --insecure), a client certificate for
// mutual TLS, the authority, the certificate's name, the receive limit and request
// compression; and the bounded wait for its connection.
import { readFileSync } from "node:fs";
import {
  ConnectivityState,
  insecureChannel,
  secureChannel,
  sslChannelCredentials,
  type Channel,
  type ChannelOptions,
} from "async-grpc";
import { UsageError, type CliArgs } from "./args.js";

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

/** Opens the channel the flags describe (it connects lazily). */
export function openChannel(args: CliArgs): Channel {
  const options: Record<string, string | number> = {};
  if (args.maxMsgSz !== undefined) options["grpc.max_receive_message_length"] = args.maxMsgSz;
  if (args.authority !== undefined) options["grpc.default_authority"] = args.authority;
  if (args.servername !== undefined) options["grpc.ssl_target_name_override"] = args.servername;
  const config = { options: options as ChannelOptions, compression: args.compression };
  try {
    if (args.plaintext) return insecureChannel(args.target, config);
    const key = args.key === undefined ? undefined : readFlagFile("key", args.key);
    const cert = args.cert === undefined ? undefined : readFlagFile("cert", args.cert);
    if (args.insecure) return secureChannel(args.target, sslChannelCredentials(undefined, key, cert, { rejectUnauthorized: false }), config);
    const ca = args.cacert === undefined ? undefined : readFlagFile("cacert", args.cacert);
    return secureChannel(args.target, sslChannelCredentials(ca, key, cert), config);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // A target or option the channel refuses.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export type ConnectResult = "ready" | "failed" | "timeout";

/**
 * Waits until the channel is READY, or its first connection attempt failed, or
 * `timeoutMs` passed. After "failed", a call fails at once with UNAVAILABLE and the
 * connection error as details.
 */
export async function awaitConnection(channel: Channel, timeoutMs: number): Promise<ConnectResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for (;;) {
      const state = channel.getState(true);
      if (state === ConnectivityState.READY) return "ready";
      if (state === ConnectivityState.TRANSIENT_FAILURE || state === ConnectivityState.SHUTDOWN) return "failed";
      await channel.waitForStateChange(state, signal);
    }
  } catch {
    return "timeout";
  }
}
