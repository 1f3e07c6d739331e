// The run as an SVG timeline: one lane per session, each op a bar from invocation to completion
// (to the end of the run, faded, when its outcome is unknown), fault windows shaded across all
// lanes, ops named by a violation outlined in red and listed under the chart. Standalone SVG:
// no scripts or external fonts; hovering an op shows its details (<title>).

import type { History, OpRecord } from './checker/history.js';
import type { Violation } from './checker/zk_checks.js';
import { NEMESIS_KINDS, type NemesisKind } from './nemesis.js';

const WIDTH = 1600;
const LEFT = 150;
const RIGHT = 20;
const TOP = 60;
const LANE_PX = 16;
const BAR_PX = 10;
/** Bound on bars drawn (violating ops are always drawn). */
const OPS_DRAWN_MAX = 30_000;
const VIOLATIONS_LISTED_MAX = 20;

const OUTCOME_FILL = { ok: '#2ca02c', fail: '#ff7f0e', unknown: '#9e9e9e' } as const;
const FAULT_FILL: Readonly<Record<NemesisKind, string>> = {
  kill: '#d62728',
  pause: '#1f77b4',
  partition: '#9467bd',
  'slow-disk': '#8c564b',
  'disk-fault': '#ff7f0e',
  'partition-peers': '#e377c2',
  reconfig: '#17becf',
};

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(n: number): string {
  return n.toFixed(1);
}

interface Layout {
  readonly x: (ms: number) => number;
  readonly lane: Map<number, number>;
  readonly end_ms: number;
  readonly height: number;
}

function layout(h: History, lanes: number[], violations_listed: number): Layout {
  const end_ms = Math.max(h.end_ms, 1);
  const plot = WIDTH - LEFT - RIGHT;
  return {
    x: (ms) => LEFT + (Math.min(Math.max(ms, 0), end_ms) / end_ms) * plot,
    lane: new Map(lanes.map((s, i) => [s, i])),
    end_ms,
    height: TOP + lanes.length * LANE_PX + 50 + violations_listed * 16,
  };
}

function opTitle(o: OpRecord): string {
  const res = o.outcome === 'ok' ? JSON.stringify(o.output) : o.error ?? '';
  const when = `${fmt(o.invoke_ms)}-${o.complete_ms === null ? '?' : fmt(o.complete_ms)} ms`;
  return `op ${o.id} ${o.f} ${o.key} ${JSON.stringify(o.input)} -> ${o.outcome} ${res} (${when}${o.zxid === null ? '' : `, zxid 0x${o.zxid.toString(16)}`})`;
}

/** A bar from invocation to completion; an unknown outcome: a thin line to the end of the run. */
function opBar(o: OpRecord, l: Layout, bad: boolean): string {
  const y = TOP + l.lane.get(o.session)! * LANE_PX + (LANE_PX - BAR_PX) / 2;
  const x0 = l.x(o.invoke_ms);
  const x1 = Math.max(x0 + 1.5, l.x(o.complete_ms ?? l.end_ms));
  const stroke = bad ? ' stroke="#e00000" stroke-width="2"' : '';
  const title = `<title>${escapeXml(opTitle(o))}</title>`;
  if (o.outcome === 'unknown') {
    const mid = y + BAR_PX / 2;
    return `<g${stroke}><rect x="${fmt(x0)}" y="${fmt(y)}" width="3" height="${BAR_PX}" fill="${OUTCOME_FILL.unknown}"/><rect x="${fmt(x0)}" y="${fmt(mid - 1)}" width="${fmt(x1 - x0)}" height="2" fill="${OUTCOME_FILL.unknown}" fill-opacity="0.6"/>${title}</g>`;
  }
  return `<rect x="${fmt(x0)}" y="${fmt(y)}" width="${fmt(x1 - x0)}" height="${BAR_PX}" fill="${OUTCOME_FILL[o.outcome]}"${stroke}>${title}</rect>`;
}

function faultBands(h: History, l: Layout): string[] {
  const bottom = TOP + l.lane.size * LANE_PX;
  return h.faults.map((f) => {
    const x0 = l.x(f.start_ms);
    const x1 = Math.max(x0 + 2, l.x(f.end_ms ?? l.end_ms));
    const fill = (FAULT_FILL as Readonly<Record<string, string | undefined>>)[f.kind] ?? '#7f7f7f'; // a history from another tool version
    const title = `${f.kind} ${f.target}: ${f.detail} (${fmt(f.start_ms)}-${f.end_ms === null ? 'never healed' : fmt(f.end_ms)} ms)`;
    return (
      `<rect x="${fmt(x0)}" y="${TOP - 14}" width="${fmt(x1 - x0)}" height="${bottom - TOP + 14}" fill="${fill}" fill-opacity="0.12"><title>${escapeXml(title)}</title></rect>` +
      `<text x="${fmt(x0 + 2)}" y="${TOP - 4}" font-size="10" fill="${fill}">${escapeXml(f.kind)}</text>`
    );
  });
}

function laneLabels(h: History, l: Layout): string[] {
  const proc = new Map<number, string>();
  for (const o of h.ops) if (!proc.has(o.session)) proc.set(o.session, o.process);
  return [...l.lane].map(([s, i]) => `<text x="${LEFT - 6}" y="${TOP + i * LANE_PX + 11}" font-size="10" text-anchor="end">s${s} ${escapeXml(proc.get(s) ?? '')}</text>`);
}

function axis(l: Layout): string[] {
  const y = TOP + l.lane.size * LANE_PX + 14;
  const step_ms = niceStep(l.end_ms / 10);
  const out = [`<line x1="${LEFT}" y1="${y - 10}" x2="${WIDTH - RIGHT}" y2="${y - 10}" stroke="#444"/>`];
  for (let t = 0; t <= l.end_ms; t += step_ms) out.push(`<text x="${fmt(l.x(t))}" y="${y + 2}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(step_ms < 1000 ? 1 : 0)} s</text>`);
  return out;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function legend(): string {
  const items = [
    ['ok', OUTCOME_FILL.ok],
    ['failed (definite)', OUTCOME_FILL.fail],
    ['unknown outcome', OUTCOME_FILL.unknown],
    ...NEMESIS_KINDS.map((k) => [k, FAULT_FILL[k]]),
  ];
  return items.map(([name, color], i) => `<rect x="${LEFT + i * 140}" y="30" width="10" height="10" fill="${color}"/><text x="${LEFT + i * 140 + 14}" y="39" font-size="11">${escapeXml(name!)}</text>`).join('');
}

/** Ops to draw: every violating one, then as many others as the bound allows (evenly spread). */
function drawn(ops: readonly OpRecord[], bad: ReadonlySet<number>): OpRecord[] {
  if (ops.length <= OPS_DRAWN_MAX) return [...ops];
  const every = Math.ceil(ops.length / OPS_DRAWN_MAX);
  return ops.filter((o, i) => bad.has(o.id) || i % every === 0);
}

export function renderTimeline(h: History, violations: readonly Violation[], verdict: string, title: string): string {
  const bad = new Set(violations.flatMap((v) => v.ops));
  const lanes = [...new Set(h.ops.map((o) => o.session))].sort((a, b) => a - b);
  const listed = violations.slice(0, VIOLATIONS_LISTED_MAX);
  const l = layout(h, lanes, listed.length);
  const bars = drawn(h.ops, bad).map((o) => opBar(o, l, bad.has(o.id)));
  // Violating ops on top, so their outline is visible.
  bars.sort((a, b) => Number(a.includes('#e00000')) - Number(b.includes('#e00000')));
  const list_y = TOP + lanes.length * LANE_PX + 44;
  const notes = listed.map((v, i) => `<text x="${LEFT}" y="${list_y + i * 16}" font-size="11" fill="#e00000">${escapeXml(`${v.check}: ${v.message}`)}</text>`);
  const head = `<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${escapeXml(`${title}: ${verdict}`)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${l.height}" viewBox="0 0 ${WIDTH} ${l.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    head,
    legend(),
    ...faultBands(h, l),
    ...laneLabels(h, l),
    ...bars,
    ...axis(l),
    ...notes,
    '</svg>',
    '',
  ].join('\n');
}
