// The ServicerContext a handler on a HandlerPool thread gets. What the server's context
// knows (metadata, deadline, peer) came with the task; what the handler sets (status,
// trailers) goes back with its result; cancellation arrives through shared memory, so
// that a handler busy computing sees it at its next isActive() or signal check.
import { Metadata, RpcError, StatusCode, UsageError, type AuthContext, type GrpcStatus, type MetadataInit, type ServicerContext } from "../index.js";
import { CANCEL_CODE, CANCELLED, type TaskStart, type TaskStatus } from "./handler-pool-protocol.js";

/** What the context needs from the thread running its task. */
export interface TaskHost {
  sendHeaders(metadata: Metadata): void;
  /** Sends one response of a streaming call, blocking while the server is behind. */
  sendResponse(response: unknown): void;
  /** The next request of a streaming-request call, or EOF; blocks until it comes. */
  nextRequest(): unknown;
}

export class PoolContext implements ServicerContext {
  readonly deadline: number | undefined;
  #controller: AbortController | undefined;
  #metadata: Metadata | undefined;
  #auth: AuthContext | undefined;
  #code: StatusCode | undefined;
  #details: string | undefined;
  #trailing: Metadata | undefined;
  #headersSent = false;
  #ended = false;
  #callbacks: (() => void)[] = [];

  constructor(
    private readonly task: TaskStart,
    private readonly view: Int32Array,
    private readonly host: TaskHost,
  ) {
    this.deadline = task.deadline;
  }

  /** Aborts when the call is cancelled or its deadline passes; checked each time it is read. */
  get signal(): AbortSignal {
    const controller = (this.#controller ??= new AbortController());
    if (!controller.signal.aborted && !this.isActive()) controller.abort(this.#reason());
    return controller.signal;
  }

  /** Aborts the signal now (a cancellation that arrived as a message, while the handler awaits). */
  cancelNow(): void {
    if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort(this.#reason());
  }

  get flagged(): boolean {
    return Atomics.load(this.view, CANCELLED) === this.task.id;
  }

  isActive(): boolean {
    return !this.#ended && !this.flagged && (this.deadline === undefined || Date.now() < this.deadline);
  }

  cancelled(): boolean {
    return this.flagged || (this.deadline !== undefined && Date.now() >= this.deadline);
  }

  done(): boolean {
    return this.#ended;
  }

  timeRemaining(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, (this.deadline - Date.now()) / 1000);
  }

  invocationMetadata(): Metadata {
    return (this.#metadata ??= new Metadata(this.task.metadata));
  }

  method(): string {
    return this.task.method;
  }

  peer(): string {
    return this.task.peer;
  }

  // Buffers arrive as Uint8Arrays from the main thread; they are given back as Buffers.
  authContext(): AuthContext {
    return (this.#auth ??= Object.fromEntries(Object.entries(this.task.auth).map(([k, v]) => [k, v.map(asBuffer)])));
  }

  peerIdentities(): Buffer[] | undefined {
    return this.task.peerIdentities?.map(asBuffer);
  }

  peerIdentityKey(): string | undefined {
    return this.task.peerIdentityKey;
  }

  async sendInitialMetadata(metadata: MetadataInit): Promise<void> {
    if (this.#headersSent) throw new Error("Initial metadata was already sent");
    this.#headersSent = true;
    this.host.sendHeaders(new Metadata(metadata));
  }

  setTrailingMetadata(metadata: MetadataInit): void {
    this.#trailing = new Metadata(metadata);
  }

  setCode(code: StatusCode): void {
    this.#code = code;
  }

  setDetails(details: string): void {
    this.#details = details;
  }

  code(): StatusCode | undefined {
    return this.#code;
  }

  details(): string | undefined {
    return this.#details;
  }

  abort(code: StatusCode, details = "", trailingMetadata?: MetadataInit): never {
    if (code === StatusCode.OK) throw new TypeError("abort() needs a non-OK status code");
    if (trailingMetadata !== undefined) this.setTrailingMetadata(trailingMetadata);
    throw new RpcError(code, details);
  }

  abortWithStatus(status: GrpcStatus): never {
    return this.abort(status.code, status.details, status.trailingMetadata);
  }

  addCallback(callback: () => void): boolean {
    if (this.#ended) return false;
    this.#callbacks.push(callback);
    return true;
  }

  addDoneCallback(callback: (context: ServicerContext) => void): void {
    if (this.#ended) callback(this);
    else this.#callbacks.push(() => callback(this));
  }

  setCompression(): void {
    throw new UsageError("setCompression() is not available to a handler on a HandlerPool: set the server's compression option");
  }

  disableNextMessageCompression(): void {
    throw new UsageError("disableNextMessageCompression() is not available to a handler on a HandlerPool: compression is the server's");
  }

  requestCompressed(): boolean {
    return false;
  }

  async read(): Promise<unknown> {
    return this.host.nextRequest();
  }

  async write(response: unknown): Promise<void> {
    this.host.sendResponse(response);
  }

  /** The status the handler set, to go back with its result. */
  status(): TaskStatus {
    return { code: this.#code, details: this.#details, trailingMetadata: this.#trailing ? [...this.#trailing] : undefined };
  }

  /** The handler is done: runs the callbacks of addCallback() and addDoneCallback(). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const cb of this.#callbacks) {
      try {
        cb();
      } catch (err) {
        console.error("async-grpc: exception in a callback of a pooled handler:", err);
      }
    }
  }

  #reason(): RpcError {
    if (this.flagged) {
      const code = Atomics.load(this.view, CANCEL_CODE) as StatusCode;
      return new RpcError(code, code === StatusCode.DEADLINE_EXCEEDED ? "Deadline Exceeded" : "The call was cancelled");
    }
    return this.deadline !== undefined && Date.now() >= this.deadline
      ? new RpcError(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
      : new RpcError(StatusCode.CANCELLED, "The call was cancelled");
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
