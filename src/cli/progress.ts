// The progress line of a long stream: messages and bytes so far, redrawn in place on
// stderr at most a few times a second, and only when stderr is a terminal (a pipe or a
// file gets nothing, so that logs hold only what the command printed on purpose).
const REDRAW_MS = 250;
// Short calls finish before the line would be useful.
const FIRST_AFTER_MS = 1000;

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export interface ProgressPacing {
  /** No line before the stream has run this long. */
  firstAfterMs: number;
  /** At most one redraw per this many milliseconds. */
  redrawMs: number;
}

export class Progress {
  private readonly enabled: boolean;
  private readonly started = Date.now();
  private lastDrawn = 0;
  private shown = false;
  sent = 0;
  received = 0;
  receivedBytes = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly pacing: ProgressPacing = { firstAfterMs: FIRST_AFTER_MS, redrawMs: REDRAW_MS },
  ) {
    this.enabled = stream.isTTY === true;
  }

  /** Counts one response of `bytes` and redraws if it is time. */
  onResponse(bytes: number): void {
    this.received++;
    this.receivedBytes += bytes;
    this.draw();
  }

  onRequest(): void {
    this.sent++;
    this.draw();
  }

  /** Clears the line before anything else is written to the terminal. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }

  private draw(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < this.pacing.firstAfterMs || now - this.lastDrawn < this.pacing.redrawMs) return;
    this.lastDrawn = now;
    const line = `${this.sent} sent, ${this.received} received (${size(this.receivedBytes)}) in ${((now - this.started) / 1000).toFixed(1)} s`;
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }
}
