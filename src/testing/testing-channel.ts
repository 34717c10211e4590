import { create, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  createServer,
  unaryUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  streamStreamRpcMethodHandler,
  type Channel,
  type GenericRpcHandler,
  type HandlerSerializers,
  type RpcMethodHandler,
} from "async-grpc";
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

/** Serves the `methods`: each call becomes an RPC in `arrivals`, for the test to take. */
function testingHandler(methods: MethodTable, arrivals: Arrivals<AnyRpc>): GenericRpcHandler {
  const handlers = new Map<string, RpcMethodHandler>();
  return {
    service({ method: path }) {
      let handler = handlers.get(path);
      if (handler === undefined) {
        const method = methods.get(path);
        if (method === undefined) return undefined;
        handler = handlerFor(method, path, (rpc) => arrivals.add(path, rpc));
        handlers.set(path, handler);
      }
      return handler;
    },
  };
}

// The handler of one method: each call becomes an RPC the test takes, and ends as the test says.
function handlerFor(method: DescMethod, path: string, arrive: (rpc: AnyRpc) => void): RpcMethodHandler {
  const serializers = serializersFor(method);
  switch (method.methodKind) {
    case "unary":
      return unaryUnaryRpcMethodHandler((request, context) => {
        const rpc = new UnaryUnaryChannelRpc(request, context, path);
        arrive(rpc as AnyRpc);
        return endAsTold(rpc, context);
      }, serializers);
    case "server_streaming":
      return unaryStreamRpcMethodHandler(async (request, context) => {
        const rpc = new UnaryStreamChannelRpc(request, context, path);
        arrive(rpc as AnyRpc);
        await endAsTold(rpc, context);
      }, serializers);
    case "client_streaming":
      return streamUnaryRpcMethodHandler((_requests, context) => {
        const rpc = new StreamUnaryChannelRpc(context, path);
        arrive(rpc as AnyRpc);
        return endAsTold(rpc, context);
      }, serializers);
    case "bidi_streaming":
      return streamStreamRpcMethodHandler(async (_requests, context) => {
        const rpc = new StreamStreamChannelRpc(context, path);
        arrive(rpc as AnyRpc);
        await endAsTold(rpc, context);
      }, serializers);
  }
}

function serializersFor(method: DescMethod): HandlerSerializers<MessageShape<DescMessage>, unknown> {
  const output = method.output;
  return {
    requestDeserializer: (bytes) => fromBinary(method.input, bytes),
    responseSerializer: (response) => toBinary(output, isMessage(response, output) ? response : create(output, response as MessageInitShape<DescMessage>)),
  };
}

/**
 * A channel whose server is the test (gRPC Python `grpc_testing.channel(service_descriptors,
 * time)`): calls of the `services`' methods wait for the test to take and answer them.
 * Deadlines of the code under test's calls run on `time`.
 */
export async function testingChannel(services: Iterable<DescService>, time: Time = strictRealTime(), options: TestingChannelOptions = {}): Promise<TestingChannel> {
  const methods = new MethodTable(services);
  const arrivals = new Arrivals<AnyRpc>(options.takeTimeoutMs ?? DEFAULT_TAKE_TIMEOUT_MS);
  // The server's deadlines stay passive: the client's own timer ends a call whose
  // deadline passes, as it would against any server, and the test sees it cancelled.
  const server = createServer({ clock: passiveClock(time) });
  server.addGenericRpcHandlers([testingHandler(methods, arrivals)]);
  return new TestingChannel(methods, arrivals, await connect(server, { clock: time }));
}
