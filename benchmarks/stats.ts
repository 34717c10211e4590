/** Median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** 12345.6 -> "12,346"; 12.345 -> "12.3"; 1.2345 -> "1.23". */
export function formatNumber(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString("en-US");
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "—" : `${r.toFixed(2)}x`;
}
