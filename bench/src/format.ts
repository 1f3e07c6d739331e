// Human-readable numbers for tables and progress lines.

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Microseconds as "850 µs", "12.3 ms", "1.20 s". */
export function fmtUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

export function fmtFixed(n: number | null, digits: number): string {
  return n === null ? 'n/a' : n.toFixed(digits);
}

/** "×1.23" ratio of a to b, or n/a. */
export function fmtRatio(a: number | null, b: number | null): string {
  if (a === null || b === null || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}
