// Generations are u32 serial numbers (RFC 1982 style) stored in Int32 words: they wrap after 2^32
// batches, and any two generations alive at the same time are less than 2^31 apart, so their
// order is the sign of the 32-bit difference. 0 is never a generation (it means "none").

export function nextGeneration(gen: number): number {
  const next = (gen + 1) | 0;
  return next === 0 ? 1 : next;
}

/** True when generation `a` is older than `b`. */
export function genBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** b - a in generations (>= 0 when a is not newer than b). */
export function genDistance(a: number, b: number): number {
  return (b - a) | 0;
}
