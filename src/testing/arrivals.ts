import { UsageError } from "async-grpc";

interface Waiter<T> {
  resolve(item: T): void;
  reject(error: Error): void;
}

/**
 * RPCs that reached a testing channel's server, by method path, until the test takes
 * them: first come, first taken. A take waits at most `timeoutMs` of real time (fake time
 * does not move by itself, and a call that never comes must not hang the test).
 */
export class Arrivals<T> {
  private readonly arrived = new Map<string, T[]>();
  private readonly waiting = new Map<string, Waiter<T>[]>();
  private closed = false;

  constructor(private readonly timeoutMs: number) {}

  add(path: string, item: T): void {
    const waiter = this.waiting.get(path)?.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else if (this.arrived.has(path)) this.arrived.get(path)!.push(item);
    else this.arrived.set(path, [item]);
  }

  take(path: string): Promise<T> {
    if (this.closed) return Promise.reject(new UsageError("The testing channel is closed"));
    const ready = this.arrived.get(path)?.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise<T>((resolve, reject) => {
      const waiters = this.waiting.get(path) ?? [];
      this.waiting.set(path, waiters);
      const waiter: Waiter<T> = {
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`No RPC of ${path} started within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      waiters.push(waiter);
    });
  }

  /** Rejects every take still waiting, and any later one. */
  close(): void {
    this.closed = true;
    for (const waiters of this.waiting.values()) for (const w of waiters) w.reject(new UsageError("The testing channel was closed"));
    this.waiting.clear();
    this.arrived.clear();
  }
}
