// Which server a fault hits (--nemesis-target): any (random), the current leader, or a follower,
// found by each server's `srvr` Mode line (waitfree and Apache ZooKeeper both answer
// `Mode: leader|follower|observer|standalone`, or "not currently serving" while electing).
//
// With one server, leader and follower both mean it. While no server answers the wanted mode
// (an election is under way), the search polls again, a bounded number of times, and then falls
// back to a random server, saying so: a run never stalls on a missing leader.

export type NemesisTargetPolicy = 'random' | 'leader' | 'follower';
export const NEMESIS_TARGET_POLICIES: readonly NemesisTargetPolicy[] = ['random', 'leader', 'follower'];

/** `srvr` of server `index` (in target.nodes order); null when it does not answer. */
export type SrvrOf = (index: number) => Promise<string | null>;

export interface TargetSearch {
  /** Polls of every server's srvr before falling back to random. */
  readonly polls_max: number;
  readonly poll_gap_ms: number;
}

/** ~10 s: longer than an election of a small ensemble on a loaded machine. */
export const TARGET_SEARCH_DEFAULTS: TargetSearch = { polls_max: 20, poll_gap_ms: 500 };

export interface PickedNode {
  readonly index: number;
  /** The mode srvr gave it (null: not asked, or no answer). */
  readonly mode: string | null;
  /** Why this server, for the log and the fault record ("leader", "no leader found: random"). */
  readonly why: string;
}

/** The mode in a srvr answer, lower-case ("leader", ...); null when there is none (not serving). */
export function modeOf(srvr_text: string | null): string | null {
  if (srvr_text === null) return null;
  return /^Mode: (\w+)/m.exec(srvr_text)?.[1]?.toLowerCase() ?? null;
}

/** Indexes whose mode fits the policy. A standalone server is its own leader. */
export function candidatesFor(policy: 'leader' | 'follower', modes: readonly (string | null)[]): number[] {
  const fits = policy === 'leader' ? (m: string | null) => m === 'leader' || m === 'standalone' : (m: string | null) => m === 'follower';
  const out: number[] = [];
  modes.forEach((m, i) => {
    if (fits(m)) out.push(i);
  });
  return out;
}

function nth<T>(items: readonly T[], r: number): T {
  if (items.length === 0) throw new Error('nemesis target: nothing to choose from');
  return items[Math.min(items.length - 1, Math.floor(r * items.length))]!;
}

/**
 * Picks a server among `count` for the policy; `r` in [0, 1) is the run's draw for this fault (so a
 * seed replays the same choices when the modes are the same). `pause` sleeps between polls and
 * returns true when the run is stopping: then the search ends at once with null (no fault).
 */
export async function pickNode(policy: NemesisTargetPolicy, count: number, r: number, srvr: SrvrOf, pause: (ms: number) => Promise<boolean>, search: TargetSearch = TARGET_SEARCH_DEFAULTS): Promise<PickedNode | null> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`nemesis target: ${count} servers`);
  const random = Math.min(count - 1, Math.floor(r * count));
  if (policy === 'random') return { index: random, mode: null, why: 'random' };
  if (count === 1) return { index: 0, mode: null, why: `the only server (as ${policy})` };
  let last: (string | null)[] = [];
  for (let poll = 1; poll <= search.polls_max; poll++) {
    last = await Promise.all(Array.from({ length: count }, (_, i) => srvr(i).then(modeOf, () => null)));
    const found = candidatesFor(policy, last);
    if (found.length > 0) {
      const index = nth(found, r);
      return { index, mode: last[index] ?? null, why: policy };
    }
    if (poll < search.polls_max && (await pause(search.poll_gap_ms))) return null;
  }
  const seen = last.map((m) => m ?? 'not serving').join(', ');
  return { index: random, mode: last[random] ?? null, why: `no ${policy} found (modes: ${seen}): random` };
}
