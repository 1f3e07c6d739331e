// Reads Apache ZooKeeper's C load generator (`load_gen HOSTS PATH N`) log: it loops forever over
// four phases of N async requests each on one session (create, setData "second", getData,
// delete), waiting for all N replies before the next phase, and logs each phase's start with a
// millisecond timestamp. Phase rate = N / (next phase start - this phase start).

export type LoadGenPhase = 'create' | 'write' | 'read' | 'delete';

const PHASE_BY_MESSAGE: ReadonlyArray<readonly [RegExp, LoadGenPhase]> = [
  [/Creating children for path/, 'create'],
  [/Starting the write cycle/, 'write'],
  [/Starting the read cycle/, 'read'],
  [/Starting the delete cycle/, 'delete'],
];

export interface PhaseRun {
  readonly phase: LoadGenPhase;
  /** Index of the load_gen cycle (0 = the first create/write/read/delete round). */
  readonly cycle: number;
  readonly duration_ms: number;
  readonly ops_per_s: number;
}

/** "2026-11-25 04:07:51,059:..." -> ms since the epoch (local time; only differences matter). */
export function parseLogTime(line: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})/.exec(line);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime();
}

/** Every completed phase in the log (the last, unfinished one is left out). */
export function parseLoadGenLog(log: string, ops_per_phase: number): PhaseRun[] {
  const starts: { phase: LoadGenPhase; t_ms: number }[] = [];
  for (const line of log.split('\n')) {
    const hit = PHASE_BY_MESSAGE.find(([re]) => re.test(line));
    const t_ms = hit === undefined ? null : parseLogTime(line);
    if (hit !== undefined && t_ms !== null) starts.push({ phase: hit[1], t_ms });
  }
  const out: PhaseRun[] = [];
  let cycle = -1;
  for (let i = 0; i + 1 < starts.length; i++) {
    const { phase, t_ms } = starts[i]!;
    if (phase === 'create') cycle++;
    const duration_ms = starts[i + 1]!.t_ms - t_ms;
    if (cycle < 0 || duration_ms <= 0) continue;
    out.push({ phase, cycle, duration_ms, ops_per_s: (ops_per_phase * 1000) / duration_ms });
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
