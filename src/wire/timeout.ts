/**
 * The `grpc-timeout` header codec (gRPC PROTOCOL-HTTP2.md: TimeoutValue is at most
 * 8 ASCII digits, TimeoutUnit one of H M S m u n).
 */

const MAX_TIMEOUT_VALUE = 99_999_999;

// Finest first, so the first unit whose value fits in 8 digits keeps the most precision.
// Sub-millisecond units multiply and coarser ones divide, because 1/1000 and friends are
// not exact binary fractions and would add float noise.
const UNITS: readonly (readonly [unit: string, multiplier: number, divisor: number])[] = [
  ["n", 1e6, 1],
  ["u", 1e3, 1],
  ["m", 1, 1],
  ["S", 1, 1_000],
  ["M", 1, 60_000],
  ["H", 1, 3_600_000],
];

// Rounds up so the peer never sees a shorter deadline than ours, but first forgives the
// float noise of the unit conversion (0.3 ms * 1e6 is 300000.00000000006, not 300001 ns).
function roundUp(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-6 ? r : Math.ceil(x);
}

/**
 * Encodes a relative timeout in milliseconds as a `grpc-timeout` value, in the finest
 * unit whose value fits in 8 digits (1500 -> "1500000u", 2 hours -> "7200000m"),
 * rounding up to that unit. A timeout <= 0 encodes as "1n" (already expired); one
 * beyond 99999999 hours is capped there. NaN and +Infinity throw RangeError, since
 * "no deadline" is expressed by sending no header.
 */
export function encodeTimeout(timeoutMs: number): string {
  if (!(timeoutMs < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`grpc-timeout must be finite, got ${timeoutMs}`);
  }
  if (timeoutMs <= 0) return "1n";
  for (const [unit, multiplier, divisor] of UNITS) {
    const value = roundUp((timeoutMs * multiplier) / divisor);
    if (value <= MAX_TIMEOUT_VALUE) return `${value}${unit}`;
  }
  return `${MAX_TIMEOUT_VALUE}H`;
}

/**
 * Parses a `grpc-timeout` value into milliseconds (fractional for u and n: "1n" is
 * 0.000001). Returns undefined for anything the grammar does not allow: empty, more
 * than 8 digits, a sign, spaces, or an unknown unit.
 */
export function parseTimeout(value: string): number | undefined {
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return undefined;
  let n = 0;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  // Divide for sub-millisecond units so "1500000u" gives exactly 1500.
  switch (value.charCodeAt(digits)) {
    case 0x48: return n * 3_600_000; // H
    case 0x4d: return n * 60_000; // M
    case 0x53: return n * 1_000; // S
    case 0x6d: return n; // m
    case 0x75: return n / 1e3; // u
    case 0x6e: return n / 1e6; // n
    default: return undefined;
  }
}
