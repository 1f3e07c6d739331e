import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../bench/src/csv.js';
import { mdTable } from '../../bench/src/markdown.js';
import { replaceSection } from '../../bench/src/md_sections.js';
import { lineChartSvg, niceTicks, shortNumber } from '../../bench/src/svg_chart.js';
import { bounded } from '../support/fc_bounds.js';

/** A minimal RFC 4180 reader, to check the writer round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  return rows;
}

describe('CSV writer', () => {
  it('round-trips any text, quoting commas, quotes and newlines', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 20 }), (rows) => {
        const csv = toCsv(['a', 'b'], rows);
        expect(parseCsv(csv)).toEqual([['a', 'b'], ...rows.map(([x, y]) => [x, y])]);
      }),
      bounded(),
    );
  });

  it('writes null as an empty field and rounds fractions to 3 decimals', () => {
    expect(toCsv(['x', 'y', 'z'], [[null, 1.23456, 7]])).toBe('x,y,z\n,1.235,7\n');
  });

  it('refuses a row whose width differs from the header', () => {
    expect(() => toCsv(['a', 'b'], [['only one']])).toThrow(/1 fields/);
  });
});

describe('markdown table', () => {
  it('aligns right-aligned columns and escapes pipes in cells', () => {
    const t = mdTable(['name', 'ops/s'], [['a|b', '1,000']], ['left', 'right']);
    expect(t.split('\n')).toEqual(['| name | ops/s |', '|---|---:|', '| a\\|b | 1,000 |']);
  });
});

describe('BENCHMARKS.md sections', () => {
  const doc = '# Benchmarks\n\nhand-written intro\n\n## Durability\n\nsomeone else\'s numbers\n';

  it('appends a section that is not there yet, keeping everything else', () => {
    const out = replaceSection(doc, 'fig5', 'table v1');
    expect(out.startsWith(doc.trimEnd())).toBe(true);
    expect(out).toContain('<!-- bench:fig5:begin -->\ntable v1\n<!-- bench:fig5:end -->');
  });

  it('replaces only its own section on the next run', () => {
    const once = replaceSection(replaceSection(doc, 'fig5', 'table v1'), 'table2', 'other');
    const twice = replaceSection(once + '\n## Later section\n\nkept\n', 'fig5', 'table v2');
    expect(twice).toContain('table v2');
    expect(twice).not.toContain('table v1');
    expect(twice).toContain("someone else's numbers");
    expect(twice).toContain('other');
    expect(twice).toContain('## Later section\n\nkept');
  });
});

describe('SVG line chart', () => {
  const spec = {
    title: 'Throughput <vs> % reads & more',
    x_label: '% reads',
    y_label: 'ops/s',
    series: [
      { name: 'waitfree', points: [{ x: 0, y: 50_000 }, { x: 100, y: 90_000 }] },
      { name: 'zookeeper', points: [{ x: 0, y: 15_000 }, { x: 50, y: 30_000 }, { x: 100, y: 47_000 }] },
    ],
  };

  it('draws one line per system with one marker per point', () => {
    const svg = lineChartSvg(spec);
    const lines = [...svg.matchAll(/<polyline data-series="([^"]+)" points="([^"]+)"/g)];
    expect(lines.map((m) => m[1])).toEqual(['waitfree', 'zookeeper']);
    expect(lines.map((m) => m[2]!.split(' ').length)).toEqual([2, 3]);
  });

  it('keeps every point inside the canvas and puts higher values higher', () => {
    const svg = lineChartSvg({ ...spec, width: 600, height: 400 });
    const pts = [...svg.matchAll(/<polyline[^>]* points="([^"]+)"/g)].flatMap((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(600);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(400);
    }
    const wf = svg.match(/data-series="waitfree" points="([^"]+)"/)![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(wf[1]!).toBeLessThan(wf[0]!); // 90k drawn above 50k (SVG y grows downwards)
  });

  it('escapes text so titles cannot break the document', () => {
    const svg = lineChartSvg(spec);
    expect(svg).toContain('Throughput &lt;vs&gt; % reads &amp; more');
    expect(svg).not.toContain('<vs>');
  });

  it('log-scale charts accept values spanning decades', () => {
    const svg = lineChartSvg({ ...spec, y_log: true, series: [{ name: 'p99', points: [{ x: 1, y: 0.2 }, { x: 2, y: 900 }] }] });
    expect(svg).toContain('data-series="p99"');
    expect(svg).not.toContain('NaN');
  });

  it('nice ticks always cover the data range with a 1-2-5 step', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 1e-3, max: 1e7, noNaN: true }), (lo, span) => {
        fc.pre(span >= lo * 1e-6); // charts span at least a millionth of their magnitude
        const ticks = niceTicks(lo, lo + span);
        expect(ticks[0]!).toBeLessThanOrEqual(lo + 1e-9 * (lo + span));
        expect(ticks[ticks.length - 1]!).toBeGreaterThanOrEqual((lo + span) * (1 - 1e-9));
        const step = ticks[1]! - ticks[0]!;
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-3)).toBe(true);
      }),
      bounded(),
    );
  });

  it('two series of one system share its color; the dashed one is dashed', () => {
    const svg = lineChartSvg({
      ...spec,
      y_log: true,
      series: [
        { name: 'waitfree p99', style: 0, points: [{ x: 1, y: 10 }] },
        { name: 'waitfree p50', style: 0, dashed: true, points: [{ x: 1, y: 2 }] },
      ],
    });
    const strokes = [...svg.matchAll(/<polyline[^>]* stroke="([^"]+)"([^>]*)\/>/g)];
    expect(strokes[0]![1]).toBe(strokes[1]![1]);
    expect(strokes[0]![2]).not.toContain('dasharray');
    expect(strokes[1]![2]).toContain('stroke-dasharray');
  });

  it('labels ticks compactly', () => {
    expect([shortNumber(45_000), shortNumber(1_200_000), shortNumber(12)]).toEqual(['45k', '1.2M', '12']);
  });
});
