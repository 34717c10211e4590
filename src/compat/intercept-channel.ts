import type { Channel, ClientInterceptor } from "../index.js";

/**
 * `channel` with `interceptors` around every call it starts, outermost first (gRPC
 * Python `grpc.intercept_channel(channel, *interceptors)`). The result is the same
 * channel seen through a proxy: it shares the connection and the state (closing either
 * closes both), and the channel's own interceptors run inside the new ones.
 */
export function interceptChannel(channel: Channel, ...interceptors: ClientInterceptor[]): Channel {
  const all: readonly ClientInterceptor[] = [...interceptors, ...channel.interceptors];
  // The multi-callables read `interceptors` from the channel they are made on, so a
  // proxy that answers that one property differently is all it takes; every other read
  // and every write goes to the channel itself.
  return new Proxy(channel, {
    get(target, property, receiver) {
      return property === "interceptors" ? all : Reflect.get(target, property, receiver);
    },
  });
}
