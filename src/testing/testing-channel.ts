import type { DescMessage, DescMethod, DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { createServer, type Channel, type ServiceImplementation, type ServicerContext } from "async-grpc";
import { Arrivals } from "./arrivals.js";
import { endAsTold, StreamStreamChannelRpc, StreamUnaryChannelRpc, UnaryStreamChannelRpc, UnaryUnaryChannelRpc, type ChannelRpc } from "./channel-rpcs.js";
import { connect, type Connection } from "./connect.js";
import { MethodTable, pathOf } from "./methods.js";
import { passiveClock } from "./passive-clock.js";
import { strictRealTime } from "./real-time.js";
import type { Time } from "./time.js";

/** Options of `testingChannel()`. */
export interface TestingChannelOptions {
  /** How long (real time) a `take*()` waits for the code under test to start the RPC; 5000 by default. */
  takeTimeoutMs?: number;
}

type AnyRpc = ChannelRpc<unknown, unknown>;

const DEFAULT_TAKE_TIMEOUT_MS = 5000;

/**
 * A channel for testing client code (gRPC Python `grpc_testing.Channel`): the code
 * under test calls through `channel` (a real `Channel`, for `createClient` or a
 * generated client class) and the test plays the server, taking each RPC with the
 * `take*()` method of its kind and answering it. Calls of methods outside the services
 * given end UNIMPLEMENTED. `close()` when done.
 */
export class TestingChannel {
  /** The channel the code under test calls through. */
  readonly channel: Channel;
  private closed = false;

  /** @internal Use `testingChannel()`. */
  constructor(
    private readonly methods: MethodTable,
    private readonly arrivals: Arrivals<AnyRpc>,
    private readonly connection: Connection,
  ) {
    this.channel = connection.channel;
  }

  /** The next unary-unary RPC of `method` the code under test starts (gRPC Python `take_unary_unary()`). */
  takeUnaryUnary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>): Promise<UnaryUnaryChannelRpc<MessageShape<I>, MessageInitShape<O>>> {
    return this.take(method, "unary") as Promise<UnaryUnaryChannelRpc<MessageShape<I>, MessageInitShape<O>>>;
  }

  /** The next unary-stream RPC of `method` (gRPC Python `take_unary_stream()`). */
  takeUnaryStream<I extends DescMessage, O extends DescMessage>(method: DescMethodServerStreaming<I, O>): Promise<UnaryStreamChannelRpc<MessageShape<I>, MessageInitShape<O>>> {
    return this.take(method, "server_streaming") as Promise<UnaryStreamChannelRpc<MessageShape<I>, MessageInitShape<O>>>;
  }

  /** The next stream-unary RPC of `method` (gRPC Python `take_stream_unary()`). */
  takeStreamUnary<I extends DescMessage, O extends DescMessage>(method: DescMethodClientStreaming<I, O>): Promise<StreamUnaryChannelRpc<MessageShape<I>, MessageInitShape<O>>> {
    return this.take(method, "client_streaming") as Promise<StreamUnaryChannelRpc<MessageShape<I>, MessageInitShape<O>>>;
  }

  /** The next stream-stream RPC of `method` (gRPC Python `take_stream_stream()`). */
  takeStreamStream<I extends DescMessage, O extends DescMessage>(method: DescMethodBiDiStreaming<I, O>): Promise<StreamStreamChannelRpc<MessageShape<I>, MessageInitShape<O>>> {
    return this.take(method, "bidi_streaming") as Promise<StreamStreamChannelRpc<MessageShape<I>, MessageInitShape<O>>>;
  }

  /** Closes the channel and its server: RPCs not terminated are cancelled, pending takes reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.arrivals.close();
    await this.connection.close();
  }

  private async take(method: DescMethod, kind: DescMethod["methodKind"]): Promise<AnyRpc> {
    return this.arrivals.take(pathOf(this.methods.check(method, kind, "take")));
  }
}

/**
 * A servicer for `service` whose every method hands its call to the test as an RPC and
 * ends it as the test says. Served with `addService`, so requests and responses go
 * through the same protobuf codecs as any servicer's.
 */
function testingServicer(service: DescService, arrivals: Arrivals<AnyRpc>): object {
  const servicer: Record<string, (input: unknown, context: ServicerContext) => Promise<unknown>> = {};
  for (const method of service.methods) {
    const path = pathOf(method);
    servicer[method.localName] = (input, context) => {
      const rpc = newRpc(method.methodKind, input, context, path);
      arrivals.add(path, rpc);
      return endAsTold(rpc, context);
    };
  }
  return servicer;
}

function newRpc(kind: DescMethod["methodKind"], input: unknown, context: ServicerContext, path: string): AnyRpc {
  switch (kind) {
    case "unary":
      return new UnaryUnaryChannelRpc(input, context, path);
    case "server_streaming":
      return new UnaryStreamChannelRpc(input, context, path);
    case "client_streaming":
      return new StreamUnaryChannelRpc(context, path);
    case "bidi_streaming":
      return new StreamStreamChannelRpc(context, path);
  }
}

/**
 * A channel whose server is the test (gRPC Python `grpc_testing.channel(service_descriptors,
 * time)`): calls of the `services`' methods wait for the test to take and answer them.
 * Deadlines of the code under test's calls run on `time`.
 */
export async function testingChannel(services: Iterable<DescService>, time: Time = strictRealTime(), options: TestingChannelOptions = {}): Promise<TestingChannel> {
  const list = [...services];
  const methods = new MethodTable(list);
  const arrivals = new Arrivals<AnyRpc>(options.takeTimeoutMs ?? DEFAULT_TAKE_TIMEOUT_MS);
  // The server's deadlines stay passive: the client's own timer ends a call whose
  // deadline passes, as it would against any server, and the test sees it cancelled.
  const server = createServer({ clock: passiveClock(time) });
  for (const service of list) server.addService(service, testingServicer(service, arrivals) as ServiceImplementation<DescService>);
  return new TestingChannel(methods, arrivals, await connect(server, { clock: time }));
}
