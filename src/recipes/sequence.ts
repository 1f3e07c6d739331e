// Sequential node names: "<protection>-<marker><10-digit sequence>" (the sequence is the parent's
// cversion at create time, so it orders creates under one parent). Recipes sort by it.

/** One sequential child, parsed. */
export interface SequencedNode {
  /** The child's name (no parent path). */
  readonly name: string;
  /** Which marker it carries ('lock-', 'read-', 'write-', ...). */
  readonly marker: string;
  readonly sequence: number;
}

/** The sequence after `marker` in `name`, or null when the name does not carry it. */
export function sequenceAfter(name: string, marker: string): number | null {
  const at = name.lastIndexOf(marker);
  if (at < 0) return null;
  const digits = name.slice(at + marker.length);
  if (!/^-?\d{9,10}$/.test(digits)) return null;
  return Number(digits);
}

/** The children carrying one of `markers`, sorted by sequence (others are ignored). */
export function sortedBySequence(children: readonly string[], markers: readonly string[]): SequencedNode[] {
  const out: SequencedNode[] = [];
  for (const name of children) {
    for (const marker of markers) {
      const sequence = sequenceAfter(name, marker);
      if (sequence !== null) {
        out.push({ name, marker, sequence });
        break;
      }
    }
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
