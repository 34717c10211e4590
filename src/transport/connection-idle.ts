// An idle limit for one connection: `onIdle` runs once the connection has had no calls
// for `idleMs` (server: grpc.max_connection_idle_ms; client: grpc.client_idle_timeout_ms).
// The timer is unref'd: an idle connection never keeps a process alive.

const MAX_TIMER_MS = 2 ** 31 - 1;

export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  /** Starts idle (no calls yet). `idleMs` of 0, negative or infinite disables it. */
  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.idle();
  }

  get enabled(): boolean {
    return this.idleMs > 0 && Number.isFinite(this.idleMs);
  }

  /** A call started: no idle countdown while calls are open. */
  busy(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The last call ended: the countdown starts again. */
  idle(): void {
    if (this.disposed || !this.enabled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.disposed) this.onIdle();
    }, Math.min(this.idleMs, MAX_TIMER_MS));
    this.timer.unref();
  }

  dispose(): void {
    this.disposed = true;
    this.busy();
  }
}
