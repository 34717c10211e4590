import type { CallObserver } from "./instrumentation.js";
import { reportSent, type Frame, type FrameSink } from "./message-writer.js";

/**
 * A stream's body as the writer of an instrumented call sees it: every frame is told
 * to the call's observer where it meets the stream, so sizes are as on the wire and a
 * replayed request counts on its new attempt. A call nobody observes writes to its
 * stream directly.
 */
export class ReportingSink implements FrameSink {
  constructor(
    private readonly sink: FrameSink,
    private readonly observer: CallObserver,
  ) {}

  write(frame: Frame): boolean {
    reportSent(this.observer, frame);
    return this.sink.write(frame);
  }

  end(frame?: Frame): void {
    reportSent(this.observer, frame);
    this.sink.end(frame);
  }

  onceDrain(listener: () => void): void {
    this.sink.onceDrain(listener);
  }
}
