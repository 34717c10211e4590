import type { DescMessage, DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { createServer, protobufSerializers, type CallOptions, type MetadataInit, type ServiceImplementation } from "async-grpc";
import { connect, type Connection } from "./connect.js";
import { MethodTable, pathOf } from "./methods.js";
import { passiveClock } from "./passive-clock.js";
import { strictRealTime } from "./real-time.js";
import { StreamStreamServerRpc, StreamUnaryServerRpc, UnaryStreamServerRpc, UnaryUnaryServerRpc } from "./server-rpcs.js";
import type { Time } from "./time.js";

/** Services and their servicers, as a Map or as [descriptor, servicer] pairs (gRPC Python's dictionary). */
export type Servicers = Iterable<readonly [DescService, object]>;

/**
 * Servicers run on a real `Server` for a test, which calls them through the four
 * `invoke*` methods (gRPC Python `grpc_testing.Server`). Each servicer runs exactly as
 * it would in production: the same context, `signal`, metadata, status and deadline
 * handling, with deadlines on the server's `Time`. `close()` when done.
 */
export class TestingServer {
  private closed = false;

  /** @internal Use `testingServer()`. */
  constructor(
    private readonly methods: MethodTable,
    private readonly connection: Connection,
  ) {}

  /**
   * Starts a unary-unary RPC (gRPC Python `invoke_unary_unary()`); `timeout` is in
   * seconds on the server's time, or none.
   */
  invokeUnaryUnary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    invocationMetadata: MetadataInit | undefined,
    request: MessageInitShape<I>,
    timeout?: number,
  ): UnaryUnaryServerRpc<MessageShape<O>> {
    const known = this.methods.check(method, "unary", "invoke");
    return new UnaryUnaryServerRpc(this.connection.channel.unaryUnary(pathOf(known), protobufSerializers(method.input, method.output))(request, this.callOptions(invocationMetadata, timeout)));
  }

  /** Starts a unary-stream RPC (gRPC Python `invoke_unary_stream()`). */
  invokeUnaryStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    invocationMetadata: MetadataInit | undefined,
    request: MessageInitShape<I>,
    timeout?: number,
  ): UnaryStreamServerRpc<MessageShape<O>> {
    const path = pathOf(this.methods.check(method, "server_streaming", "invoke"));
    const call = this.connection.channel.unaryStream(path, protobufSerializers(method.input, method.output))(request, this.callOptions(invocationMetadata, timeout));
    return new UnaryStreamServerRpc(call, path);
  }

  /** Starts a stream-unary RPC (gRPC Python `invoke_stream_unary()`); send its requests with `sendRequest()`. */
  invokeStreamUnary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodClientStreaming<I, O>,
    invocationMetadata: MetadataInit | undefined,
    timeout?: number,
  ): StreamUnaryServerRpc<MessageInitShape<I>, MessageShape<O>> {
    const path = pathOf(this.methods.check(method, "client_streaming", "invoke"));
    return new StreamUnaryServerRpc(this.connection.channel.streamUnary(path, protobufSerializers(method.input, method.output))(undefined, this.callOptions(invocationMetadata, timeout)));
  }

  /** Starts a stream-stream RPC (gRPC Python `invoke_stream_stream()`). */
  invokeStreamStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodBiDiStreaming<I, O>,
    invocationMetadata: MetadataInit | undefined,
    timeout?: number,
  ): StreamStreamServerRpc<MessageInitShape<I>, MessageShape<O>> {
    const path = pathOf(this.methods.check(method, "bidi_streaming", "invoke"));
    const call = this.connection.channel.streamStream(path, protobufSerializers(method.input, method.output))(undefined, this.callOptions(invocationMetadata, timeout));
    return new StreamStreamServerRpc(call, path);
  }

  /** Stops the server, cancelling RPCs still running, and releases everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.close();
  }

  private callOptions(metadata: MetadataInit | undefined, timeout: number | undefined): CallOptions {
    if (this.closed) throw new Error("The testing server is closed");
    return { metadata, timeoutMs: timeout === undefined ? undefined : timeout * 1000 };
  }
}

/**
 * Runs `servicers` on a real server for a test (gRPC Python
 * `grpc_testing.server_from_dictionary(descriptors_to_servicers, time)`), its deadlines
 * on `time` (`strictFakeTime(now)` to step them; real time by default).
 */
export async function testingServer(servicers: Servicers, time: Time = strictRealTime()): Promise<TestingServer> {
  const server = createServer({ clock: time });
  const services: DescService[] = [];
  for (const [service, servicer] of servicers) {
    server.addService(service, servicer as ServiceImplementation<DescService>);
    services.push(service);
  }
  // The invoking client sends the deadline but leaves expiring it to the server, as
  // gRPC Python's testing server does: the servicer's deadline is the one under test.
  return new TestingServer(new MethodTable(services), await connect(server, { clock: passiveClock(time) }));
}
