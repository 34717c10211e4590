import type { Settings } from "node:http2";
import { numberOption, OPT_CONNECTION_WINDOW_BYTES, OPT_MAX_CONCURRENT_STREAMS, OPT_MAX_FRAME_SIZE, OPT_STREAM_WINDOW_BYTES, type ChannelOptions } from "./options.js";

// Node's default 64 KiB windows cap a stream at one window per round trip, which
// limits large messages to a few hundred MB/s even on loopback. Larger fixed windows
// remove that cap. Memory stays bounded: a receiver that stops reading stops
// consuming its stream window (Node only acknowledges data the application reads),
// so at most one stream window per open stream is buffered.
export const DEFAULT_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
// No larger than a stream window. Node's HTTP/2 stops reading its socket while one of
// its own writes is pending; two Node peers that may each have more bytes in flight
// than the kernel's socket buffers hold then wait for each other forever (measured:
// 1,000 concurrent 270 KB unary calls, or 8 bidi streams of 1 MiB messages both ways,
// stall with a 16 MiB connection window and complete with 4 MiB).
export const DEFAULT_CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;
// What Node may hold per session (outgoing data queued in streams included) before it
// refuses new streams with ENHANCE_YOUR_CALM; a floor so that many streams writing
// large messages are not refused.
const MIN_SESSION_MEMORY_MB = 64;
// Larger DATA frames cut per-frame work for large messages; peers that do not want
// them simply advertise a smaller SETTINGS_MAX_FRAME_SIZE to us.
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024;
const HTTP2_MAX_WINDOW = 2 ** 31 - 1;

export interface FlowControl {
  settings: Settings;
  connectionWindowBytes: number;
  /** Node's per-session memory ceiling in MB; must cover the windows. */
  maxSessionMemoryMb: number;
}

export function flowControlFrom(options: ChannelOptions, isServer: boolean): FlowControl {
  const streamWindow = clamp(numberOption(options, OPT_STREAM_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_BYTES), 65_535, HTTP2_MAX_WINDOW);
  const connectionWindow = clamp(numberOption(options, OPT_CONNECTION_WINDOW_BYTES, DEFAULT_CONNECTION_WINDOW_BYTES), 65_535, HTTP2_MAX_WINDOW);
  const maxFrameSize = clamp(numberOption(options, OPT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE), 16_384, 16_777_215);
  const settings: Settings = { initialWindowSize: streamWindow, maxFrameSize, enablePush: false };
  if (isServer && options[OPT_MAX_CONCURRENT_STREAMS] !== undefined) {
    settings.maxConcurrentStreams = numberOption(options, OPT_MAX_CONCURRENT_STREAMS, 0);
  }
  const maxSessionMemoryMb = Math.max(MIN_SESSION_MEMORY_MB, Math.ceil((connectionWindow * 2) / (1024 * 1024)) + 16);
  return { settings, connectionWindowBytes: connectionWindow, maxSessionMemoryMb };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(Math.floor(n), lo), hi);
}
