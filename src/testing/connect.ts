import { insecureChannel, type Channel, type Clock, type Server } from "async-grpc";

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
 * Starts `server` (handlers added, not started) and connects a channel to it. The one
 * place the testing companion picks a transport: loopback HTTP/2 on 127.0.0.1 and a
 * free port today, the in-process transport when it lands.
 */
export async function connect(server: Server, options: ConnectOptions): Promise<Connection> {
  let port: number;
  try {
    port = await server.addInsecurePort("127.0.0.1:0");
    await server.start();
  } catch (err) {
    await server.stop(null);
    throw err;
  }
  const channel = insecureChannel(`127.0.0.1:${port}`, { clock: options.clock });
  return {
    channel,
    async close() {
      await channel.close();
      await server.stop(null);
    },
  };
}
