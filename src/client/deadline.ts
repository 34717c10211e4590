import type { Clock } from "../transport/index.js";

// Deadlines are absolute milliseconds on the channel's clock (wall-clock epoch ms by default).

/** Absolute deadline in epoch ms from per-call `timeoutMs`/`deadline`, the earlier winning. */
export function resolveDeadline(timeoutMs: number | undefined, deadline: Date | number | undefined, clock: Clock): number | undefined {
  let at: number | undefined;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) throw new TypeError(`timeoutMs must be a number, got ${String(timeoutMs)}`);
    if (timeoutMs !== Number.POSITIVE_INFINITY) at = clock.now() + timeoutMs;
  }
  if (deadline !== undefined) {
    const d = typeof deadline === "number" ? deadline : deadline.getTime();
    if (Number.isNaN(d)) throw new TypeError("deadline is not a valid time");
    if (d !== Number.POSITIVE_INFINITY && (at === undefined || d < at)) at = d;
  }
  return at;
}
