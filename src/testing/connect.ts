import type { Channel, Clock, Server } from "async-grpc";
import { inProcessChannel } from "./in-process.js";

/** A channel connected to a testing server; `close()` closes both. */
export interface Connection {
  readonly channel: Channel;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** What the channel measures its calls' deadlines on. */
  clock: Clock;
}

/**
 * Starts `server` (handlers added, not started) and connects a channel to it: the one
 * place the testing companion picks a transport, the in-process one (no port, no
 * socket, the same call machinery as over HTTP/2).
 */
export async function connect(server: Server, options: ConnectOptions): Promise<Connection> {
  try {
    await server.start();
  } catch (err) {
    await server.stop(null);
    throw err;
  }
  const channel = inProcessChannel(server, { name: "testing", clock: options.clock });
  return {
    channel,
    async close() {
      await channel.close();
      await server.stop(null);
    },
  };
}
