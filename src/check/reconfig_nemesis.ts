// The reconfig nemesis (`--nemesis reconfig`; ensembles, waitfree's and Apache ZooKeeper's): the
// membership of the running ensemble changes under load, as an operator changes it with zkCli's
// `reconfig`, and then changes back: a voter becomes an observer and a voter again, or a member
// is removed and added back (it keeps running meanwhile: removed, it stops serving; added back,
// it rejoins). Unlike the other nemeses it runs in a loop of its own, beside theirs, so a change
// can be in flight while a server is killed, paused or cut off.
//
// Each change is a fault window in the history: opened when the change is asked for, healed once
// /zookeeper/config holds the member as a voter again. An answer to a reconfig may be lost (the
// member answering changes role, crashes, or the request times out): the outcome is then read
// back from /zookeeper/config after a sync, and the change is asked for again only if it is not
// there, with that config's version as from_config, so a late first attempt cannot apply twice.
//
// Bounded: changes count toward --faults-max with the other nemeses' faults; none starts at or
// after until_ms; a change back is retried for at most RESTORE_MS_MAX, and the loop does not
// return before it has ended.

import { digestId, isZooKeeperError, ZooKeeperClient } from '../client/index.js';
import { memberSpecText, parseQuorumConfigText, type Membership } from '../config/quorum_config_text.js';
import { CONFIG_NODE } from '../protocol/constants.js';
import type { FaultBudget } from './fault_budget.js';
import { between } from './prng.js';
import type { Recorder } from './recorder.js';
import type { Target } from './targets.js';

/** The super user the reconfig nemesis authenticates as (servers get its digest in zoo.cfg). */
export const RECONFIG_SUPER_USER = { user: 'super', password: 'waitfree-check' } as const;

/** The zoo.cfg lines a server needs for this nemesis' reconfigs. */
export function reconfigCfgLines(): string[] {
  return ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${digestId(RECONFIG_SUPER_USER.user, RECONFIG_SUPER_USER.password)}`];
}

/** How long a change back may take (an election, a member restarting, a quorum coming back). */
export const RESTORE_MS_MAX = 90_000;
/** How long the change itself is retried before the window is given up (not a failure). */
const CHANGE_MS_MAX = 20_000;
const RETRY_GAP_MS = 250;
const SESSION_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 5_000;

export type MembershipChange = 'observer' | 'removed';

export interface ReconfigNemesisOptions {
  /** Shared with the other nemeses (--faults-max counts every fault). */
  readonly budget: FaultBudget;
  readonly gap_ms: readonly [number, number];
  readonly duration_ms: readonly [number, number];
  readonly until_ms: number;
}

export interface ReconfigNemesisDeps {
  readonly rec: Recorder;
  readonly target: Target;
  readonly rng: () => number;
  /** Sleeps, returning early (true) when the run is stopping. */
  pause(ms: number): Promise<boolean>;
  log(line: string): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The admin session: opened lazily, replaced when it is gone (expired or closed). */
class AdminSession {
  private client: ZooKeeperClient | null = null;

  constructor(private readonly connect_string: string) {}

  async get(): Promise<ZooKeeperClient> {
    if (this.client !== null && this.client.state !== 'expired' && this.client.state !== 'closed') return this.client;
    await this.close();
    this.client = await ZooKeeperClient.connect(this.connect_string, {
      sessionTimeout_ms: SESSION_TIMEOUT_MS,
      requestTimeout_ms: REQUEST_TIMEOUT_MS,
      auth: [{ scheme: 'digest', auth: `${RECONFIG_SUPER_USER.user}:${RECONFIG_SUPER_USER.password}` }],
    });
    return this.client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.close().catch(() => undefined);
  }
}

/** The ensemble's config as a quorum of it has committed it (a sync first: any member may answer). */
async function readConfig(admin: AdminSession): Promise<Membership> {
  const c = await admin.get();
  await c.sync(CONFIG_NODE);
  const r = await c.getData(CONFIG_NODE);
  return parseQuorumConfigText(r.data?.toString('utf8') ?? '', CONFIG_NODE);
}

interface Step {
  /** The reconfig's arguments (incremental, or the whole membership). */
  readonly change: { joining?: string; leaving?: string; members?: string };
  /** True once the config shows the step done. */
  done(m: Membership): boolean;
}

/**
 * Asks for `step` until the config shows it or `budget_ms` passes; true if done. Every failure is
 * retried (CONNECTIONLOSS, a timeout, BADVERSION after a concurrent change, NEWCONFIGNOQUORUM while
 * a member is down): the config read before each attempt says whether one already applied.
 */
async function apply(admin: AdminSession, step: Step, budget_ms: number, log: (l: string) => void): Promise<boolean> {
  const deadline = Date.now() + budget_ms;
  let last_error = '';
  while (Date.now() < deadline) {
    try {
      const m = await readConfig(admin);
      if (step.done(m)) return true;
      const c = await admin.get();
      await c.reconfig({ ...step.change, from_config: m.version });
    } catch (e) {
      const why = isZooKeeperError(e) ? e.code : String(e);
      if (why !== last_error) log(`nemesis: reconfig ${JSON.stringify(step.change)}: ${why} (retrying)`);
      last_error = why;
    }
    await sleep(RETRY_GAP_MS);
  }
  return false;
}

function roleOf(m: Membership, sid: number): string | null {
  return m.members.find((x) => x.sid === sid)?.role ?? null;
}

/**
 * The steps of one window for the member `line` names (`server.N=host:quorum:election;host:client`,
 * as the target launched it): the change, and the change back to a voter. Addresses come from the
 * target, not from the config read: until the first reconfig each waitfree member's config shows
 * the addresses of its own zoo.cfg (the proxies it dials), and a reconfig must name the client
 * port, which the launch's server lines leave out.
 */
export function stepsFor(kind: MembershipChange, line: string): { there: Step; back: Step } {
  const m = /^server\.(\d+)=([^:;]+:\d+:\d+)(?::\w+)?;(.+)$/.exec(line);
  if (m === null) throw new Error(`reconfig nemesis: ${JSON.stringify(line)} is not server.N=host:port:port;host:port`);
  const sid = Number(m[1]);
  const as = (role: string): string => `server.${sid}=${m[2]}:${role};${m[3]}`;
  const back: Step = { change: { joining: as('participant') }, done: (c) => roleOf(c, sid) === 'participant' };
  if (kind === 'observer') return { there: { change: { joining: as('observer') }, done: (c) => roleOf(c, sid) === 'observer' }, back };
  return { there: { change: { leaving: String(sid) }, done: (c) => roleOf(c, sid) === null }, back };
}

/**
 * The voters a change may touch: while two or fewer would be left the change is not made (a
 * single voter is a valid config, but then one more fault stops every write until it heals).
 */
function candidates(m: Membership): number[] {
  const voters = m.members.filter((x) => x.role === 'participant').map((x) => x.sid);
  return voters.length >= 3 ? voters : [];
}

/** Runs membership changes until until_ms or the fault bound; the config is restored on return. */
export async function runReconfigNemesis(o: ReconfigNemesisOptions, d: ReconfigNemesisDeps): Promise<number> {
  const admin = new AdminSession(d.target.connect_string);
  let count = 0;
  try {
    while (!o.budget.exhausted) {
      if (await d.pause(between(d.rng, o.gap_ms))) break;
      if (d.rec.now() >= o.until_ms) break;
      const kind: MembershipChange = d.rng() < 0.5 ? 'observer' : 'removed';
      const r = d.rng();
      const ms = between(d.rng, o.duration_ms);
      let original: Membership;
      try {
        original = await readConfig(admin);
      } catch (e) {
        d.log(`nemesis: reconfig: config not readable (${isZooKeeperError(e) ? e.code : String(e)}); trying later`);
        continue;
      }
      const sids = candidates(original);
      if (sids.length === 0) continue;
      const sid = sids[Math.min(sids.length - 1, Math.floor(r * sids.length))]!;
      if (!o.budget.take()) break;
      count++;
      if (!asLaunched(original, d.target.member_lines ?? [])) {
        await firstWindow(d, admin, original);
        continue;
      }
      await oneWindow(d, admin, kind, original, sid, ms);
    }
  } finally {
    await admin.close();
  }
  return count;
}

/** True when every member's line in `m` is the one the target launched it with. */
function asLaunched(m: Membership, lines: readonly string[]): boolean {
  return m.members.length === lines.length && m.members.every((x) => lines[x.sid - 1] === `server.${x.sid}=${memberSpecText(x)}`);
}

/**
 * The first change names every member with the addresses the target launched it with (a whole
 * new membership, ZooKeeper's non-incremental reconfig). Until then each waitfree member's config
 * holds its own zoo.cfg's view (the proxies it dials the others by), and an incremental reconfig
 * would carry the leader's view to every member: a member's own address would become one of
 * the leader's proxies, whose port it cannot listen on when it restarts.
 */
async function firstWindow(d: ReconfigNemesisDeps, admin: AdminSession, original: Membership): Promise<void> {
  const lines = d.target.member_lines ?? [];
  const h = d.rec.faultStarted('reconfig', 'all', `every member's addresses as launched (config version ${original.version.toString(16)})`);
  const done = await apply(admin, { change: { members: lines.join(',') }, done: (m) => asLaunched(m, lines) }, RESTORE_MS_MAX, d.log);
  const outcome = done ? 'made' : `NOT made within ${RESTORE_MS_MAX} ms`;
  d.rec.faultHealed(h, outcome);
  d.log(`nemesis: reconfig of every member's addresses as launched: ${outcome}`);
}

async function oneWindow(d: ReconfigNemesisDeps, admin: AdminSession, kind: MembershipChange, original: Membership, sid: number, ms: number): Promise<void> {
  const name = d.target.nodes[sid - 1]?.name ?? `server.${sid}`;
  const what = kind === 'observer' ? 'voter -> observer' : 'removed';
  const line = d.target.member_lines?.[sid - 1];
  if (line === undefined) throw new Error(`reconfig nemesis: the target has no server line for server ${sid}`);
  const { there, back } = stepsFor(kind, line);
  const h = d.rec.faultStarted('reconfig', name, `${what} (config version ${original.version.toString(16)}), then back`);
  const changed = await apply(admin, there, CHANGE_MS_MAX, d.log);
  if (changed) await d.pause(ms);
  const restored = await apply(admin, back, RESTORE_MS_MAX, d.log);
  const outcome = `${changed ? what : `${what} not made within ${CHANGE_MS_MAX} ms`}; ${restored ? 'a voter again' : `NOT a voter again within ${RESTORE_MS_MAX} ms`}`;
  d.rec.faultHealed(h, outcome);
  d.log(`nemesis: reconfig of ${name}: ${outcome}${changed ? ` after ${Math.round(ms)} ms` : ''}`);
}
