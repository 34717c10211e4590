import { EOF, Metadata, RpcError, StatusCode, UsageError, type Call, type ClientCallDetails, type MetadataInit } from "../index.js";

/** How an interceptor answers a call itself: with a response (or responses, for a stream), or with an error. */
export type Answer =
  | { response: unknown; initialMetadata?: MetadataInit; trailingMetadata?: MetadataInit; error?: undefined }
  | { responses: Iterable<unknown>; initialMetadata?: MetadataInit; trailingMetadata?: MetadataInit; error?: RpcError }
  | { error: RpcError; initialMetadata?: undefined; trailingMetadata?: undefined };

/**
 * A call that an interceptor answers itself, without calling `next` (a cache, a fake):
 * `return answeredCall(details, { response: cached })`, or `{ error: new RpcError(...) }`.
 * It is the call the caller gets, of the kind `details.kind` asks for: awaitable for
 * unary and client-streaming methods, iterable and readable for streaming ones;
 * requests written to it are dropped. Nothing goes on the wire. (gRPC Python's aio
 * interceptors return a response instead of a call the same way.)
 */
export function answeredCall(details: ClientCallDetails, answer: Answer): Call {
  return new AnsweredCall(details, answer) as unknown as Call;
}

class AnsweredCall {
  readonly #single: boolean;
  readonly #responses: unknown[];
  readonly #error: RpcError | undefined;
  readonly #initial: Metadata;
  readonly #trailing: Metadata;
  #next = 0;
  #style: "read" | "iterate" | undefined;

  constructor(details: ClientCallDetails, answer: Answer) {
    this.#single = details.kind === "unary" || details.kind === "client_streaming";
    this.#error = answer.error;
    if ("response" in answer) {
      if (!this.#single) throw new TypeError(`answeredCall: a ${details.kind} call is answered with { responses }`);
      this.#responses = [answer.response];
    } else if ("responses" in answer) {
      if (this.#single) throw new TypeError(`answeredCall: a ${details.kind} call is answered with { response }`);
      this.#responses = [...answer.responses];
    } else {
      this.#responses = [];
    }
    if (answer.error !== undefined && !(answer.error instanceof RpcError)) throw new TypeError("answeredCall: error must be an RpcError");
    this.#initial = new Metadata(answer.initialMetadata ?? answer.error?.initialMetadata);
    this.#trailing = new Metadata(answer.trailingMetadata ?? answer.error?.trailingMetadata);
  }

  then<A = unknown, B = never>(onfulfilled?: ((value: unknown) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    if (!this.#single) return Promise.resolve(this as unknown).then(onfulfilled, onrejected);
    const outcome = this.#error !== undefined ? Promise.reject(this.#error) : Promise.resolve(this.#responses[0]);
    return outcome.then(onfulfilled, onrejected);
  }

  async read(): Promise<unknown> {
    this.#useStyle("read");
    return this.#pull();
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    this.#useStyle("iterate");
    return {
      next: async () => {
        const value = this.#pull();
        return value === EOF ? { done: true, value: undefined } : { done: false, value };
      },
      return: async (value?: unknown) => ({ done: true, value }),
    };
  }

  /** Resolves, or rejects with the answer's error (gRPC Python aio `wait_for_connection()`). */
  async waitForConnection(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
  }

  async write(): Promise<void> {}
  async doneWriting(): Promise<void> {}

  code(): Promise<StatusCode> {
    return Promise.resolve(this.#error?.code ?? StatusCode.OK);
  }

  details(): Promise<string> {
    return Promise.resolve(this.#error?.details ?? "");
  }

  initialMetadata(): Promise<Metadata> {
    return Promise.resolve(this.#initial);
  }

  trailingMetadata(): Promise<Metadata> {
    return Promise.resolve(this.#trailing);
  }

  cancel(): boolean {
    return false;
  }

  done(): boolean {
    return true;
  }

  cancelled(): boolean {
    return this.#error?.code === StatusCode.CANCELLED;
  }

  timeRemaining(): number | undefined {
    return undefined;
  }

  responseCompressed(): boolean {
    return false;
  }

  addDoneCallback(callback: (call: this) => void): void {
    callback(this);
  }

  #pull(): unknown {
    if (this.#single) throw new UsageError("A unary-response call is awaited, not read: await it");
    if (this.#next < this.#responses.length) return this.#responses[this.#next++];
    if (this.#error !== undefined) throw this.#error;
    return EOF;
  }

  #useStyle(style: "read" | "iterate"): void {
    if (this.#style !== undefined && this.#style !== style) {
      throw new UsageError("A call's responses are read either with read() or by iteration, not both: pick one for the whole call");
    }
    this.#style = style;
  }
}
