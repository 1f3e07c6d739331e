// The Prometheus text exposition format (version 0.0.4), written from plain data: a list of
// metric families, each with its samples. Pure; the scrape (scrape.ts) builds the families.

import type { HistogramSnapshot } from './histogram.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface ScalarSample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels: Labels;
  readonly histogram: HistogramSnapshot;
}

export type Family =
  | { readonly name: string; readonly help: string; readonly type: 'counter' | 'gauge'; readonly samples: readonly ScalarSample[] }
  | { readonly name: string; readonly help: string; readonly type: 'histogram'; readonly samples: readonly HistogramSample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Go's strconv-style float text Prometheus parsers accept: integers plain, +Inf, -Inf, NaN. */
export function formatValue(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(x);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(h: string): string {
  return h.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push([extra[0], extra[1]]);
  if (pairs.length === 0) return '';
  for (const [k] of pairs) if (!LABEL.test(k)) throw new RangeError(`metrics: bad label name ${JSON.stringify(k)}`);
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** Bucket lines (cumulative, le in the exposed unit), then _sum and _count. */
function histogramLines(name: string, s: HistogramSample): string[] {
  const { spec, counts, sum, count } = s.histogram;
  const out: string[] = [];
  let cumulative = 0;
  for (let b = 0; b < counts.length; b++) {
    cumulative += counts[b];
    // toPrecision: 0.05 * 1e-3 must print as 0.00005, not 5.000000000000001e-5.
    const le = b < spec.bounds.length ? formatValue(Number((spec.bounds[b] * spec.scale).toPrecision(12))) : '+Inf';
    out.push(`${name}_bucket${labelText(s.labels, ['le', le])} ${formatValue(cumulative)}`);
  }
  out.push(`${name}_sum${labelText(s.labels)} ${formatValue(sum * spec.scale)}`);
  out.push(`${name}_count${labelText(s.labels)} ${formatValue(count)}`);
  return out;
}

export function formatFamily(f: Family): string {
  if (!NAME.test(f.name)) throw new RangeError(`metrics: bad metric name ${JSON.stringify(f.name)}`);
  const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
  if (f.type === 'histogram') {
    for (const s of f.samples) lines.push(...histogramLines(f.name, s));
  } else {
    for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return lines.join('\n') + '\n';
}

/** The whole exposition; a family name must appear once. */
export function formatExposition(families: readonly Family[]): string {
  const seen = new Set<string>();
  for (const f of families) {
    if (seen.has(f.name)) throw new Error(`metrics: family ${f.name} listed twice`);
    seen.add(f.name);
  }
  return families.map(formatFamily).join('');
}
