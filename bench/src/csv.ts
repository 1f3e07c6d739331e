// CSV (RFC 4180): a header row, then one row per record; fields with a comma, quote or newline
// are quoted with quotes doubled. null is an empty field.

export type CsvValue = string | number | null;

function field(v: CsvValue): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000)) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  for (const r of rows) {
    if (r.length !== header.length) throw new Error(`CSV row has ${r.length} fields, header has ${header.length}`);
  }
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
}
