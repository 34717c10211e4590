import { ClientCall } from "./client-call.js";

/**
 * The awaitable half shared by calls with a single response. The promise exists
 * only once someone awaits the call, so a caller who only looks at `code()` never
 * sees an unhandled rejection.
 */
export abstract class UnaryResponseCall<Req, Res> extends ClientCall<Req, Res> implements PromiseLike<Res> {
  private result: Promise<Res> | undefined;
  private resolveResult: ((value: Res) => void) | undefined;
  private rejectResult: ((reason: unknown) => void) | undefined;

  then<A = Res, B = never>(
    onfulfilled?: ((value: Res) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.outcome().then(onfulfilled, onrejected);
  }

  private outcome(): Promise<Res> {
    if (this.result) return this.result;
    if (this.isFinished) {
      const error = this.error;
      this.result = error ? Promise.reject(error) : Promise.resolve(this.response as Res);
    } else {
      this.result = new Promise<Res>((resolve, reject) => {
        this.resolveResult = resolve;
        this.rejectResult = reject;
      });
    }
    return this.result;
  }

  protected override onFinish(): void {
    const reject = this.rejectResult;
    if (reject === undefined) return;
    const error = this.error;
    if (error) reject(error);
    else this.resolveResult!(this.response as Res);
    this.resolveResult = this.rejectResult = undefined;
  }
}
