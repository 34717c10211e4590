import type { Channel } from "../index.js";
import { Future } from "./future.js";

/**
 * A `Future` that completes once `channel` is READY, connecting it if needed (gRPC
 * Python `grpc.channel_ready_future(channel)`); `cancel()` stops waiting. It fails if
 * the channel is closed first. `await future.result(timeoutMs)` is the usual use.
 */
export function channelReadyFuture(channel: Pick<Channel, "channelReady">): Future<void> {
  const controller = new AbortController();
  return new Future(channel.channelReady(controller.signal), () => controller.abort());
}
