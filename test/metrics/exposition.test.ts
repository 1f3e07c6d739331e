// The Prometheus text exposition, checked with a Prometheus text-format parser from npm.
// How these fail: buckets written per bucket instead of cumulative, _count not equal to the
// +Inf bucket, le bounds printed with float noise (5.000000000000001e-5), label values with
// quotes or newlines not escaped, a family listed twice.

import { describe, expect, it } from 'vitest';
import { formatExposition, formatValue, type Family } from '../../src/metrics/exposition.js';
import { histogramSlots, histogramSpec, LATENCY_MS, observe, readHistogram } from '../../src/metrics/histogram.js';
import { familyValue, parseExposition, sampleValue } from './prometheus_parse.js';

function latency(values: number[]) {
  const v = new Float64Array(histogramSlots(LATENCY_MS));
  for (const x of values) observe(v, 0, LATENCY_MS, x);
  return readHistogram(v, 0, LATENCY_MS);
}

describe('exposition', () => {
  it('counters and gauges parse back to the values written, labels included', () => {
    const families: Family[] = [
      { name: 'waitfree_requests_total', help: 'Requests.', type: 'counter', samples: [
        { labels: { op: 'create' }, value: 7 },
        { labels: { op: 'getData' }, value: 1234567 },
      ] },
      { name: 'znode_count', help: 'Znodes.', type: 'gauge', samples: [{ labels: {}, value: 42 }] },
      { name: 'weird', help: 'Help with a \\ and\na newline.', type: 'gauge', samples: [{ labels: { path: '/a"b\\c\nd' }, value: -1.5 }] },
    ];
    const parsed = parseExposition(formatExposition(families));
    expect(parsed.map((f) => [f.name, f.type])).toEqual([['waitfree_requests_total', 'COUNTER'], ['znode_count', 'GAUGE'], ['weird', 'GAUGE']]);
    expect(familyValue(parsed, 'waitfree_requests_total', { op: 'getData' })).toBe(1234567);
    expect(familyValue(parsed, 'znode_count')).toBe(42);
    expect(parsed[2].help).toBe('Help with a \\ and\na newline.');
    expect(parsed[2].metrics[0].labels).toEqual({ path: '/a"b\\c\nd' });
  });

  it('histograms: cumulative buckets in seconds, +Inf = _count, _sum in seconds', () => {
    const h = latency([0.01, 0.3, 0.3, 2, 20000]);
    const text = formatExposition([
      { name: 'lat_seconds', help: 'Latency.', type: 'histogram', samples: [{ labels: {}, histogram: h }] },
    ]);
    const [f] = parseExposition(text);
    expect(f.type).toBe('HISTOGRAM');
    const buckets = f.metrics[0].buckets!;
    expect(buckets['0.00005']).toBe('1');
    expect(buckets['0.0005']).toBe('3');
    expect(buckets['0.0025']).toBe('4');
    expect(buckets['10']).toBe('4');
    expect(buckets['+Inf']).toBe('5');
    expect(Number(f.metrics[0].count)).toBe(5);
    expect(Number(f.metrics[0].sum)).toBeCloseTo((0.01 + 0.6 + 2 + 20000) / 1000);
    expect(Object.keys(buckets)).toHaveLength(LATENCY_MS.bounds.length + 1);
  });

  it('labelled histograms: one series per label set, each line well-formed', () => {
    const text = formatExposition([
      { name: 'lat_seconds', help: 'Latency.', type: 'histogram', samples: [
        { labels: { op: 'create' }, histogram: latency([1, 1]) },
        { labels: { op: 'getData' }, histogram: latency([0.2]) },
      ] },
    ]);
    expect(() => parseExposition(text)).not.toThrow();
    expect(sampleValue(text, 'lat_seconds_count{op="create"}')).toBe(2);
    expect(sampleValue(text, 'lat_seconds_bucket{op="getData",le="+Inf"}')).toBe(1);
    expect(sampleValue(text, 'lat_seconds_bucket{op="create",le="0.001"}')).toBe(2);
    expect(sampleValue(text, 'lat_seconds_bucket{op="create",le="0.0005"}')).toBe(0);
  });

  it('refuses a family listed twice and bad names', () => {
    const f: Family = { name: 'x', help: '', type: 'gauge', samples: [] };
    expect(() => formatExposition([f, f])).toThrow(/twice/);
    expect(() => formatExposition([{ ...f, name: 'bad-name' }])).toThrow(/bad metric name/);
    expect(() => formatExposition([{ ...f, samples: [{ labels: { 'a-b': '1' }, value: 1 }] }])).toThrow(/bad label name/);
  });

  it('special values', () => {
    expect([Infinity, -Infinity, NaN, 3, 0.25].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '3', '0.25']);
    expect(() => histogramSpec([0.1, Infinity])).toThrow();
  });
});
