// The text `waitfree check` prints: what ran, the faults, the history's size, the checker's
// partitions and violations, and the verdict.

import type { CheckReport } from './checker/check.js';
import type { History } from './checker/history.js';

const VIOLATIONS_PRINTED_MAX = 10;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function faultsSummary(h: History): string {
  if (h.faults.length === 0) return 'faults: none';
  const by = new Map<string, number>();
  for (const f of h.faults) by.set(f.kind, (by.get(f.kind) ?? 0) + 1);
  const unhealed = h.faults.filter((f) => f.end_ms === null).length;
  const kinds = [...by].map(([k, n]) => `${k} x${n}`).join(', ');
  return `faults: ${h.faults.length} (${kinds})${unhealed > 0 ? `, ${unhealed} NOT healed` : ''}`;
}

export function faultLines(h: History): string[] {
  return h.faults.map((f) => `  ${seconds(f.start_ms)}-${f.end_ms === null ? '?' : seconds(f.end_ms)} ${f.kind} ${f.target}: ${f.detail}`);
}

export function reportText(h: History, r: CheckReport, check_ms: number): string {
  const c = r.counts;
  const parts = r.partitions;
  const by_result = (x: string) => parts.filter((p) => p.result === x).length;
  const lines = [
    faultsSummary(h),
    ...faultLines(h),
    `history: ${c.ops} ops (ok ${c.ok}, failed ${c.fail}, unknown ${c.unknown}), ${c.events} watch events, over ${seconds(h.end_ms)}`,
    `checker: ${parts.length} partitions searched (${by_result('ok')} linearizable, ${by_result('illegal')} not, ${by_result('unknown')} unknown) in ${seconds(check_ms)}`,
  ];
  for (const p of parts.filter((x) => x.result === 'unknown')) lines.push(`  unknown: ${p.model} ${p.key} (${p.ops} ops): ${p.reason}`);
  if (r.violation_count > 0) lines.push(`violations: ${r.violation_count}`);
  for (const v of r.violations.slice(0, VIOLATIONS_PRINTED_MAX)) lines.push(`  ${v.check}: ${v.message}`);
  if (r.violations.length > VIOLATIONS_PRINTED_MAX) lines.push(`  ... ${r.violation_count - VIOLATIONS_PRINTED_MAX} more (see the timeline)`);
  lines.push(`verdict: ${r.verdict}`);
  return lines.join('\n') + '\n';
}
