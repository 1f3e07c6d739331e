// A readable line diff (longest common subsequence), for transcript mismatches:
// `  ` common, `- ` only in the reference (left), `+ ` only in the other (right).

/** Returns '' when equal, else the diff with `context` common lines around each change. */
export function lineDiff(left: readonly string[], right: readonly string[], context = 3): string {
  const n = left.length;
  const m = right.length;
  // lcs[i][j] = LCS length of left[i..] and right[j..].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = left[i] === right[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Array<{ tag: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) {
      ops.push({ tag: ' ', line: left[i++] });
      j++;
    } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push({ tag: '+', line: right[j++] });
    } else {
      ops.push({ tag: '-', line: left[i++] });
    }
  }
  if (ops.every((o) => o.tag === ' ')) return '';
  const keep = new Array<boolean>(ops.length).fill(false);
  ops.forEach((o, k) => {
    if (o.tag === ' ') return;
    for (let d = Math.max(0, k - context); d <= Math.min(ops.length - 1, k + context); d++) keep[d] = true;
  });
  const out: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped) out.push('  ...');
    skipped = false;
    out.push(`${o.tag} ${o.line}`);
  });
  if (skipped) out.push('  ...');
  return out.join('\n');
}
