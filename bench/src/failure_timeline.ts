// Figure 8 (throughput upon failures): the scripted events of a run (a follower killed with
// SIGKILL and restarted, then the leader) and what the throughput series shows around them.
// Pure: the runner executes the script, this file plans it and reads the series.

/** A step of the script, relative to the run's start. */
export interface EventSpec {
  readonly at_ms: number;
  readonly action: 'kill_follower' | 'restart_follower' | 'kill_leader' | 'restart_leader';
}

/** What happened when the script ran. */
export interface TimelineEvent {
  readonly action: EventSpec['action'];
  /** When the signal was sent / the process spawned, seconds since the run's start. */
  readonly at_s: number;
  readonly sid: number;
  /** Restarts: when the member answered srvr with a Mode again (null: not within the run). */
  readonly serving_at_s: number | null;
}

export const EVENT_LABELS: Record<EventSpec['action'], string> = {
  kill_follower: 'follower killed',
  restart_follower: 'follower restarted',
  kill_leader: 'leader killed',
  restart_leader: 'old leader restarted',
};

/** The script over a run of `duration_ms`: follower down for a fifth of it, then the leader. */
export function failureScript(duration_ms: number): EventSpec[] {
  if (!(duration_ms >= 10_000)) throw new Error(`a failure timeline needs >= 10 s (got ${duration_ms} ms)`);
  const at = (f: number): number => Math.round((duration_ms * f) / 100) * 100;
  return [
    { at_ms: at(0.15), action: 'kill_follower' },
    { at_ms: at(0.32), action: 'restart_follower' },
    { at_ms: at(0.52), action: 'kill_leader' },
    { at_ms: at(0.69), action: 'restart_leader' },
  ];
}

export interface SeriesPoint {
  /** Bucket start, seconds. */
  readonly t_s: number;
  readonly ops_per_s: number;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median bucket over [from_s, to_s): the steady rate before the first event. */
export function baseline(series: readonly SeriesPoint[], from_s: number, to_s: number): number | null {
  return median(series.filter((p) => p.t_s >= from_s && p.t_s < to_s).map((p) => p.ops_per_s));
}

export interface Phase {
  readonly from_s: number;
  readonly to_s: number;
  /** Mean of the buckets that start inside the phase. */
  readonly mean_ops_per_s: number | null;
}

/** The run cut at every event: [0, e1), [e1, e2), ..., [en, end_s). */
export function phases(series: readonly SeriesPoint[], events: readonly { at_s: number }[], end_s: number): Phase[] {
  const cuts = [0, ...events.map((e) => e.at_s).sort((a, b) => a - b), end_s];
  const out: Phase[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const inside = series.filter((p) => p.t_s >= cuts[i]! && p.t_s < cuts[i + 1]!).map((p) => p.ops_per_s);
    out.push({ from_s: cuts[i]!, to_s: cuts[i + 1]!, mean_ops_per_s: inside.length === 0 ? null : inside.reduce((a, b) => a + b, 0) / inside.length });
  }
  return out;
}

export interface Dip {
  readonly min_ops_per_s: number | null;
  /** Total time of buckets under half the baseline. */
  readonly below_half_ms: number;
  /** Total time of buckets with no completion at all. */
  readonly zero_ms: number;
  /** From the event to the start of the first bucket back at >= 90% of the baseline after the
   *  lowest bucket (null: not within the window). */
  readonly recovered_after_ms: number | null;
}

/** The throughput dip in [at_s, until_s) against `base` ops/s; bucket width `bucket_ms`. */
export function dipAfter(series: readonly SeriesPoint[], bucket_ms: number, at_s: number, until_s: number, base: number): Dip {
  // The bucket holding the event counts: part of it is already after the event.
  const inside = series.filter((p) => p.t_s + bucket_ms / 1000 > at_s && p.t_s < until_s);
  if (inside.length === 0) return { min_ops_per_s: null, below_half_ms: 0, zero_ms: 0, recovered_after_ms: null };
  let low = 0;
  for (let i = 1; i < inside.length; i++) if (inside[i]!.ops_per_s < inside[low]!.ops_per_s) low = i;
  const back = inside.slice(low).find((p) => p.ops_per_s >= 0.9 * base);
  return {
    min_ops_per_s: inside[low]!.ops_per_s,
    below_half_ms: inside.filter((p) => p.ops_per_s < 0.5 * base).length * bucket_ms,
    zero_ms: inside.filter((p) => p.ops_per_s === 0).length * bucket_ms,
    recovered_after_ms: back === undefined ? null : Math.max(0, Math.round((back.t_s - at_s) * 1000)),
  };
}
