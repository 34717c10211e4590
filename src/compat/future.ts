/** Raised by `Future.result()` and `exception()` when the timeout passes first (gRPC Python `grpc.FutureTimeoutError`). */
export class FutureTimeoutError extends Error {
  static {
    Object.defineProperty(this.prototype, "name", { value: "FutureTimeoutError", writable: true, configurable: true });
  }
}

/** Raised by `Future.result()` and `exception()` once the future was cancelled (gRPC Python `grpc.FutureCancelledError`). */
export class FutureCancelledError extends Error {
  static {
    Object.defineProperty(this.prototype, "name", { value: "FutureCancelledError", writable: true, configurable: true });
  }
}

type State<T> = { kind: "running" } | { kind: "finished"; value: T } | { kind: "failed"; error: unknown } | { kind: "cancelled" };

/**
 * The eventual outcome of a computation, an RPC most often (gRPC Python `grpc.Future`).
 * `done()`, `running()` and `cancelled()` answer at once; `result()`, `exception()` and
 * `traceback()` wait, bounded by `timeoutMs`: on the event loop's thread nothing can
 * block while the call it waits for needs that thread, so they return Promises (the
 * blocking client's futures, `BlockingFuture`, really block).
 */
export class Future<T> {
  #state: State<T> = { kind: "running" };
  #callbacks: ((future: Future<T>) => void)[] | undefined;
  #waiters: (() => void)[] | undefined;
  readonly #cancel: (() => void) | undefined;

  /**
   * A future for `outcome`; `cancel` (if given) stops the work behind it, e.g. an RPC's
   * `call.cancel()`. Once `cancel()` was called the outcome is ignored.
   */
  constructor(outcome: PromiseLike<T>, cancel?: () => void) {
    this.#cancel = cancel;
    outcome.then(
      (value) => this.#settle({ kind: "finished", value }),
      (error: unknown) => this.#settle({ kind: "failed", error }),
    );
  }

  /** Cancels the work; false if it had already ended (gRPC Python `cancel()`). */
  cancel(): boolean {
    if (this.#state.kind !== "running") return false;
    this.#settle({ kind: "cancelled" });
    this.#cancel?.();
    return true;
  }

  /** True once cancelled (gRPC Python `cancelled()`). */
  cancelled(): boolean {
    return this.#state.kind === "cancelled";
  }

  /** True while the work is under way (gRPC Python `running()`). */
  running(): boolean {
    return this.#state.kind === "running";
  }

  /** True once the work has ended, by a result, an error or a cancellation (gRPC Python `done()`). */
  done(): boolean {
    return this.#state.kind !== "running";
  }

  /**
   * The result, once there is one (gRPC Python `result(timeout)`): rejects with the
   * work's error (an `RpcError` for an RPC), `FutureCancelledError`, or
   * `FutureTimeoutError` when `timeoutMs` passes first (the work goes on).
   */
  async result(timeoutMs?: number): Promise<T> {
    const state = await this.#outcome(timeoutMs);
    if (state.kind === "failed") throw state.error;
    return state.value;
  }

  /** The work's error, or undefined if it succeeded (gRPC Python `exception(timeout)`). */
  async exception(timeoutMs?: number): Promise<unknown> {
    const state = await this.#outcome(timeoutMs);
    return state.kind === "failed" ? state.error : undefined;
  }

  /**
   * The stack of the work's error, or undefined if it succeeded (gRPC Python
   * `traceback(timeout)`). An `RpcError` of a call carries the caller's frames.
   */
  async traceback(timeoutMs?: number): Promise<string | undefined> {
    const error = await this.exception(timeoutMs);
    if (error === undefined) return undefined;
    return error instanceof Error ? error.stack : String(error);
  }

  /**
   * Runs `callback(future)` once the future is done, at once if it already is
   * (gRPC Python `add_done_callback()`). An exception in a callback is logged and does
   * not reach the others.
   */
  addDoneCallback(callback: (future: Future<T>) => void): void {
    if (this.done()) runCallback(callback, this);
    else (this.#callbacks ??= []).push(callback);
  }

  async #outcome(timeoutMs: number | undefined): Promise<Exclude<State<T>, { kind: "running" | "cancelled" }>> {
    if (this.#state.kind === "running") await this.#wait(timeoutMs);
    const state = this.#state;
    if (state.kind === "cancelled") throw new FutureCancelledError("The future was cancelled");
    if (state.kind === "running") throw new FutureTimeoutError(`No result within ${timeoutMs} ms`);
    return state;
  }

  #wait(timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      (this.#waiters ??= []).push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters?.filter((w) => w !== done);
          resolve();
        }, Math.max(0, timeoutMs));
      }
    });
  }

  #settle(state: State<T>): void {
    if (this.#state.kind !== "running") return;
    this.#state = state;
    const waiters = this.#waiters;
    const callbacks = this.#callbacks;
    this.#waiters = undefined;
    this.#callbacks = undefined;
    if (waiters) for (const w of waiters) w();
    if (callbacks) for (const cb of callbacks) runCallback(cb, this);
  }
}

export function runCallback<F>(callback: (future: F) => void, future: F): void {
  try {
    callback(future);
  } catch (err) {
    // As gRPC Python does: one broken callback must not stop the others.
    console.error("async-grpc: exception in a future's done callback:", err);
  }
}
