// Typed access to parse-prometheus-text-format (a Prometheus text-format parser from npm; it
// ships no types). It throws on any malformed line, which is what the scrape tests rely on.
// Its histogram output is lossy for labelled series (it merges them), so histogram values are
// read with sampleValue() from the text; the parser still checks every line of them.

import parseText from 'parse-prometheus-text-format';

export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

export function parseExposition(text: string): ParsedFamily[] {
  return (parseText as (t: string) => ParsedFamily[])(text);
}

/** A counter's or gauge's value for the series with exactly these labels; 0 when absent. */
export function familyValue(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number {
  const f = families.find((x) => x.name === name);
  if (f === undefined) throw new Error(`family ${name} missing`);
  const want = JSON.stringify(Object.entries(labels).sort());
  const m = f.metrics.find((s) => JSON.stringify(Object.entries(s.labels ?? {}).sort()) === want);
  return m === undefined ? 0 : Number(m.value);
}

/** The value of one sample line (`name{labels}` exactly as written), or 0 when absent. */
export function sampleValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
