// Line charts as standalone SVG: one line per system, like the paper's figures. Linear or log10
// y axis, "nice" tick steps, a legend, no external fonts or scripts.

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
  /** Palette slot (color and marker); default: the series' index. Same system, same color. */
  readonly style?: number;
  readonly dashed?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly x_label: string;
  readonly y_label: string;
  readonly series: readonly Series[];
  readonly y_log?: boolean;
  readonly x_log?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** Vertical dashed lines at these x values, labelled (Figure 8's failures). */
  readonly marks?: readonly Mark[];
  /** Draw a marker at every point (default true; off for long time series). */
  readonly point_markers?: boolean;
}

export interface Mark {
  readonly x: number;
  readonly label: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;
const MARGIN = { left: 78, right: 20, top: 76, bottom: 56 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Tick values with a 1/2/5 x 10^k step, about `count` of them; the first <= lo, the last >= hi. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(k * step);
  return out;
}

/** Powers of ten covering [lo, hi]; with 1-2-5 steps when that span is under three decades. */
function logTicks(lo: number, hi: number): number[] {
  const e_lo = Math.floor(Math.log10(lo));
  const e_hi = Math.ceil(Math.log10(hi));
  const steps = e_hi - e_lo < 3 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = e_lo; e <= e_hi; e++) for (const m of steps) if (m * 10 ** e <= 10 ** e_hi) out.push(m * 10 ** e);
  return out;
}

/** Short tick labels: 45000 -> 45k, 1200000 -> 1.2M. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

interface Scale {
  readonly map: (v: number) => number;
  readonly ticks: number[];
}

function xScale(spec: ChartSpec, width: number): Scale {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const span = width - MARGIN.left - MARGIN.right;
  if (spec.x_log === true) {
    const pos = xs.filter((x) => x > 0);
    const ticks = logTicks(Math.min(...pos, 1), Math.max(...pos, 10));
    const l_lo = Math.log10(ticks[0]!);
    const l_hi = Math.log10(ticks[ticks.length - 1]!);
    return { map: (v) => MARGIN.left + ((Math.log10(Math.max(v, ticks[0]!)) - l_lo) / (l_hi - l_lo || 1)) * span, ticks };
  }
  const lo = Math.min(...xs, 0);
  const hi = Math.max(...xs, lo + 1);
  const ticks = niceTicks(lo, hi, 8);
  const t_lo = Math.min(lo, ticks[0]!);
  const t_hi = Math.max(hi, ticks[ticks.length - 1]!);
  return { map: (v) => MARGIN.left + ((v - t_lo) / (t_hi - t_lo)) * span, ticks };
}

function yScale(spec: ChartSpec, height: number): Scale {
  const ys = spec.series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  const span = height - MARGIN.top - MARGIN.bottom;
  const bottom = height - MARGIN.bottom;
  if (spec.y_log === true) {
    const pos = ys.filter((y) => y > 0);
    const ticks = logTicks(Math.min(...pos, 1), Math.max(...pos, 10));
    const l_lo = Math.log10(ticks[0]!);
    const l_hi = Math.log10(ticks[ticks.length - 1]!);
    return { map: (v) => bottom - ((Math.log10(Math.max(v, ticks[0]!)) - l_lo) / (l_hi - l_lo || 1)) * span, ticks };
  }
  const ticks = niceTicks(0, Math.max(...ys, 1) * 1.05, 6);
  const top = Math.max(ticks[ticks.length - 1]!, 1);
  return { map: (v) => bottom - (v / top) * span, ticks };
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string): string {
  const r = 4;
  if (kind === 'circle') return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
  if (kind === 'square') return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
  const pts =
    kind === 'triangle'
      ? [[x, y - r - 1], [x + r + 1, y + r], [x - r - 1, y + r]]
      : [[x, y - r - 1], [x + r + 1, y], [x, y + r + 1], [x - r - 1, y]];
  return `<polygon points="${pts.map(([a, b]) => `${a!.toFixed(1)},${b!.toFixed(1)}`).join(' ')}" fill="${color}"/>`;
}

function axes(spec: ChartSpec, xs: Scale, ys: Scale, width: number, height: number): string[] {
  const out: string[] = [];
  const bottom = height - MARGIN.bottom;
  const right = width - MARGIN.right;
  for (const t of ys.ticks) {
    const y = ys.map(t).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(shortNumber(t))}</text>`);
  }
  for (const t of xs.ticks) {
    const x = xs.map(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeXml(shortNumber(t))}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<text x="${(MARGIN.left + right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(spec.x_label)}</text>`);
  const mid = (MARGIN.top + bottom) / 2;
  out.push(`<text x="16" y="${mid}" text-anchor="middle" transform="rotate(-90 16 ${mid})">${escapeXml(spec.y_label)}</text>`);
  return out;
}

/** Labels alternate between two rows so neighbouring marks do not overwrite each other. */
function marksSvg(marks: readonly Mark[], xs: Scale, height: number): string[] {
  const bottom = height - MARGIN.bottom;
  return marks.flatMap((m, i) => {
    const x = xs.map(m.x).toFixed(1);
    const y = MARGIN.top + 12 + (i % 2) * 14;
    return [
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${bottom}" stroke="#555" stroke-dasharray="3 3"/>`,
      `<text x="${(Number(x) + 3).toFixed(1)}" y="${y}" font-size="10" fill="#333">${escapeXml(m.label)}</text>`,
    ];
  });
}

function seriesSvg(s: Series, index: number, xs: Scale, ys: Scale, point_markers = true): string[] {
  const i = s.style ?? index;
  const color = PALETTE[i % PALETTE.length]!;
  const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
  const pts = [...s.points].filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
  const coords = pts.map((p) => `${xs.map(p.x).toFixed(1)},${ys.map(p.y).toFixed(1)}`);
  const out = [`<polyline data-series="${escapeXml(s.name)}" points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`];
  if (point_markers) for (const p of pts) out.push(marker(MARKERS[i % MARKERS.length]!, xs.map(p.x), ys.map(p.y), color));
  return out;
}

/** In the top margin, left to right (two rows at most), so it never covers a line. */
function legend(series: readonly Series[], width: number): string[] {
  const slot = 160;
  const per_row = Math.max(1, Math.floor((width - MARGIN.left - MARGIN.right) / slot));
  const rows = Math.ceil(series.length / per_row);
  return series.map((s, i) => {
    const x = MARGIN.left + (i % per_row) * slot;
    const y = MARGIN.top - 12 - (rows - 1 - Math.floor(i / per_row)) * 16;
    const style = s.style ?? i;
    const color = PALETTE[style % PALETTE.length]!;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    return `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>${marker(MARKERS[style % MARKERS.length]!, x + 12, y, color)}<text x="${x + 30}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`;
  });
}

export function lineChartSvg(spec: ChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 440;
  const xs = xScale(spec, width);
  const ys = yScale(spec, height);
  const body = [
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
    spec.subtitle === undefined ? '' : `<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${escapeXml(spec.subtitle)}</text>`,
    ...axes(spec, xs, ys, width, height),
    ...marksSvg(spec.marks ?? [], xs, height),
    ...spec.series.flatMap((s, i) => seriesSvg(s, i, xs, ys, spec.point_markers ?? true)),
    ...legend(spec.series, width),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    ...body.filter((l) => l !== ''),
    '</svg>',
    '',
  ].join('\n');
}
