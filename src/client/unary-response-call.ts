import type { RpcError } from "../wire/index.js";
import { ClientCall } from "./client-call.js";

/**
 * The awaitable half shared by calls with a single response. The promise exists
 * only once someone awaits the call, so a caller who only looks at `code()` never
 * sees an unhandled rejection.
 */
export abstract class UnaryResponseCall<Req, Res> extends ClientCall<Req, Res> implements PromiseLike<Res> {
  private result: Promise<Res> | undefined;

  then<A = Res, B = never>(
    onfulfilled?: ((value: Res) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return (this.result ??= this.outcome()).then(onfulfilled, onrejected);
  }

  // An async function, so that the error it throws is built inside the caller's
  // await chain and its stack shows where the caller awaited.
  private async outcome(): Promise<Res> {
    if (!this.isFinished) await this.whenFinished();
    if (this.error !== undefined) throw this.failureForCaller() satisfies RpcError;
    return this.response as Res;
  }
}
