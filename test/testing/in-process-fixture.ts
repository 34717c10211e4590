// What the in-process transport's tests share: a started server with an Echo servicer,
// and an in-process channel to it with a generated client.
import { createServer, type Server, type ServerConfig } from "../../src/index.js";
import { inProcessChannel, type InProcessChannelConfig } from "../../src/testing/index.js";
import { EchoClient, type EchoServicer } from "../gen/testing/echo_grpc.js";
import { Echo } from "../gen/testing/echo_pb.js";

/** A started server (no port) serving `servicer`. */
export async function startEcho(servicer: Partial<EchoServicer>, config?: ServerConfig): Promise<Server> {
  const server = createServer(config);
  server.addService(Echo, servicer);
  await server.start();
  return server;
}

/** A started server, an in-process channel to it and a generated client; `done()` closes both. */
export async function connectEcho(servicer: Partial<EchoServicer>, serverConfig?: ServerConfig, channelConfig?: InProcessChannelConfig) {
  const server = await startEcho(servicer, serverConfig);
  const channel = inProcessChannel(server, channelConfig);
  const client = new EchoClient(channel);
  const done = async (): Promise<void> => {
    await channel.close();
    await server.stop(0);
  };
  return { server, channel, client, done };
}
