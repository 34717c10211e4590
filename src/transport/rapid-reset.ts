// Node's HTTP/2 server defends against "rapid reset" (CVE-2023-44487): a client that
// resets streams faster than nghttp2's limit (a burst of 1000 RST_STREAM frames, then 33
// per second) gets GOAWAY and loses the connection. Node >= 22.10 (and 23) lets a server
// set the two numbers (`streamResetBurst`, `streamResetRate`); older Node accepts the
// options and ignores them, so here they are passed on only where they work, and
// reported once otherwise.
import { logError } from "./trace.js";
import { numberOption, OPT_STREAM_RESET_BURST, OPT_STREAM_RESET_RATE, type ChannelOptions } from "./options.js";

/** nghttp2's defaults, which Node applies when the options are absent. */
export const DEFAULT_STREAM_RESET_BURST = 1000;
export const DEFAULT_STREAM_RESET_RATE = 33;

export interface StreamResetLimits {
  streamResetBurst?: number;
  streamResetRate?: number;
}

/** True where Node's http2 server honours `streamResetBurst`/`streamResetRate` (22.10+, 23+). */
export function nodeSupportsStreamResetLimits(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 10);
}

let reportedUnsupported = false;

/** The http2 server options for the configured limits; empty when unset or unsupported. */
export function streamResetLimitsFrom(options: ChannelOptions, supported = nodeSupportsStreamResetLimits()): StreamResetLimits {
  if (options[OPT_STREAM_RESET_BURST] === undefined && options[OPT_STREAM_RESET_RATE] === undefined) return {};
  // Node applies the limit only when both are given; the one left out keeps its default.
  const limits = {
    streamResetBurst: Math.max(0, numberOption(options, OPT_STREAM_RESET_BURST, DEFAULT_STREAM_RESET_BURST)),
    streamResetRate: Math.max(0, numberOption(options, OPT_STREAM_RESET_RATE, DEFAULT_STREAM_RESET_RATE)),
  };
  if (supported) return limits;
  if (!reportedUnsupported) {
    reportedUnsupported = true;
    logError(
      `${OPT_STREAM_RESET_BURST} / ${OPT_STREAM_RESET_RATE} have no effect on Node ${process.versions.node} (they need Node 22.10 or later); ` +
        `Node's fixed limit applies: ${DEFAULT_STREAM_RESET_BURST} resets in a burst, then ${DEFAULT_STREAM_RESET_RATE} per second`,
    );
  }
  return {};
}
