// Markdown tables. Cells are escaped for pipes; numbers are right-aligned by the caller's choice.

export type Align = 'left' | 'right';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rule = header.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  const line = (r: readonly string[]): string => `| ${r.map(cell).join(' | ')} |`;
  for (const r of rows) {
    if (r.length !== header.length) throw new Error(`table row has ${r.length} cells, header has ${header.length}`);
  }
  return [line(header), `|${rule.join('|')}|`, ...rows.map(line)].join('\n');
}
