// "Did you mean ...?" for unknown keys and flags: the closest known name by edit distance.

/**
 * Edit distance with insert, delete, substitute and adjacent transposition each 1 (optimal string
 * alignment), case-insensitive: "prot" is 1 away from "port", "ticktime" 0 from "tickTime".
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * The known name closest to `name`, if close enough to be a likely typo: at most 1 edit for
 * short names, growing to a quarter of the length (so "tickTme" → "tickTime", but "foo" → none).
 */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 4));
  let best: string | undefined;
  let best_d = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < best_d) {
      best = k;
      best_d = d;
    }
  }
  return best_d <= limit ? best : undefined;
}
