// A one-run text report for the terminal (the standalone load generator prints this).

import { cores, type LoadResult } from './load_result.js';
import { fmtFixed, fmtInt, fmtUs } from './format.js';
import { OP_KINDS } from './mix.js';

export function textReport(r: LoadResult): string {
  const lines = [
    `target ${r.connect}  mode ${r.mode}  reads ${r.read_pct}%  clients ${r.clients} x ${r.outstanding_max} outstanding  ${r.value_bytes} B values  ${r.key_count} keys  ${r.threads} load threads`,
    `window ${r.measure_s} s after ${r.warmup_s} s warm-up${r.mode === 'open' ? `  offered ${fmtInt(r.offered_per_s)}/s  dropped ${fmtInt(r.dropped)}` : ''}`,
    `throughput ${fmtInt(r.ops_per_s)} ops/s  (${fmtInt(r.ops)} ops, ${fmtInt(r.requests)} requests, ${fmtInt(r.errors)} errors${errorList(r)})`,
    `latency    p50 ${fmtUs(r.latency.p50_us)}  p99 ${fmtUs(r.latency.p99_us)}  p99.9 ${fmtUs(r.latency.p999_us)}  max ${fmtUs(r.latency.max_us)}`,
  ];
  for (const k of OP_KINDS) {
    const kr = r.by_kind[k];
    if (kr.count === 0) continue;
    lines.push(`  ${k.padEnd(6)} ${fmtInt(kr.per_s)}/s  p50 ${fmtUs(kr.latency.p50_us)}  p99 ${fmtUs(kr.latency.p99_us)}  p99.9 ${fmtUs(kr.latency.p999_us)}  max ${fmtUs(kr.latency.max_us)}`);
  }
  lines.push(
    `server CPU ${r.server_cpu_s === null ? 'n/a (no --server-pid)' : `${fmtFixed(r.server_cpu_s, 2)} s = ${fmtFixed(cores(r.server_cpu_s, r.measure_s), 2)} cores, ${fmtFixed(r.server_us_per_request, 1)} µs/request`}`,
    `load generator CPU ${fmtFixed(r.loadgen_cpu_s, 2)} s = ${fmtFixed(cores(r.loadgen_cpu_s, r.measure_s), 2)} cores, ${fmtFixed(r.loadgen_us_per_request, 1)} µs/request`,
    `load average ${r.loadavg_start.map((l) => l.toFixed(2)).join(' ')} -> ${r.loadavg_end.map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (r.server_threads.length > 0) lines.push(`busiest server threads (CPU s): ${threadList(r)}`);
  return lines.join('\n');
}

function errorList(r: LoadResult): string {
  const entries = Object.entries(r.error_codes);
  return entries.length === 0 ? '' : `: ${entries.map(([c, n]) => `${c}×${n}`).join(', ')}`;
}

export function threadList(r: LoadResult, max = 8): string {
  return r.server_threads
    .slice(0, max)
    .map((t) => `${t.name} ${t.cpu_s.toFixed(2)}`)
    .join(', ');
}
