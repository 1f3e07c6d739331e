// Faults injected during a run, one at a time, each healed before the next and all before the
// run ends: kill (SIGKILL a server, restart it on the same data dir), pause (SIGSTOP, then
// SIGCONT), partition (cut the clients' link to a server through the tool's proxy), slow-disk
// (waitfree only: every txn log sync delayed, through the fault file the server follows),
// disk-fault (waitfree only: every txn log sync fails with EIO through the same file, then the
// server is restarted on a healed disk, as an operator would after fixing it),
// partition-peers (waitfree ensembles only: cut one replica's links to every other replica, through
// the proxies the replicas dial each other by). Which server is hit: --nemesis-target
// (nemesis_target.ts). Bounded in count and duration; every fault is recorded as a window in the
// history. reconfig (ensembles: membership changes and back) runs in a loop of its own beside
// these, so its changes overlap their faults (reconfig_nemesis.ts).

import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FSYNC_DELAY_FAULT_FILE, FSYNC_FAIL_TEXT } from '../log/log_fs.js';
import { fourLetter } from './four_letter.js';
import { modeOf, pickNode, type NemesisTargetPolicy, type PickedNode, type SrvrOf, type TargetSearch } from './nemesis_target.js';
import type { FaultProxy } from './proxy.js';
import { FaultBudget } from './fault_budget.js';
import { runReconfigNemesis } from './reconfig_nemesis.js';
import { between } from './prng.js';
import type { Recorder } from './recorder.js';
import type { ServerNode } from './server_node.js';
import type { Target } from './targets.js';

export type NemesisKind = 'kill' | 'pause' | 'partition' | 'slow-disk' | 'disk-fault' | 'partition-peers' | 'reconfig';
export const NEMESIS_KINDS: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'slow-disk', 'disk-fault', 'partition-peers', 'reconfig'];
/**
 * What `--nemesis all` means: every kind but reconfig. A reconfig gives every member one address
 * per server, the one in the new config, so the replicas no longer dial each other through the
 * per-pair proxies partition-peers cuts; the two are not run together.
 */
export const NEMESIS_ALL: readonly NemesisKind[] = NEMESIS_KINDS.filter((k) => k !== 'reconfig');
/** Nemeses that go through the fault file (servers started with waitfree.log.fsyncDelayUs=-1). */
const FAULT_FILE_KINDS: readonly NemesisKind[] = ['slow-disk', 'disk-fault'];

/** A slow-disk window's delay per log sync, drawn uniformly (us). Under the request timeout. */
export const SLOW_DISK_DELAY_US: readonly [number, number] = [20_000, 1_000_000];
/**
 * A slow-disk window lasts the fault duration plus this: the server re-reads the fault file at
 * most once a second, so a shorter window could pass unnoticed.
 */
export const SLOW_DISK_EXTRA_MS = 2_000;
/**
 * A partition-peers window lasts the fault duration plus this many sync timeouts (syncLimit x
 * tickTime): the isolated replica notices after one, and the cut outlasts the majority's election,
 * so a new leader serves while the old one is still cut off (the case worth checking).
 */
export const PARTITION_PEERS_SYNC_TIMEOUTS = 2;

export interface NemesisOptions {
  readonly kinds: readonly NemesisKind[];
  /** Most faults of every kind together. */
  readonly faults_max: number;
  /** Quiet time between faults, drawn uniformly from [min, max]. */
  readonly gap_ms: readonly [number, number];
  /** How long a pause or partition lasts (kill: until the restart is ready). */
  readonly duration_ms: readonly [number, number];
  /** No fault starts after this recorder time. */
  readonly until_ms: number;
  /** Which server a fault hits (default random). */
  readonly target_policy?: NemesisTargetPolicy;
  /** How long to look for a leader/follower before picking at random (default TARGET_SEARCH_DEFAULTS). */
  readonly target_search?: TargetSearch;
}

export interface NemesisDeps {
  readonly rec: Recorder;
  readonly target: Target;
  /** One proxy per server, in target.nodes order (partition needs them). */
  readonly proxies: readonly FaultProxy[];
  readonly rng: () => number;
  /** Sleeps, returning early (true) when the run is stopping. */
  pause(ms: number): Promise<boolean>;
  log(line: string): void;
  /** srvr of target.nodes[index] (default: the four-letter word on its client port). */
  readonly srvr?: SrvrOf;
  /** The reconfig loop's own choices (a stream apart, so a seed's other faults stay the same). */
  readonly reconfig_rng?: () => number;
}

const SRVR_TIMEOUT_MS = 1_000;

function srvrOf(d: NemesisDeps): SrvrOf {
  return d.srvr ?? ((i) => fourLetter(d.target.nodes[i]!.port, 'srvr', SRVR_TIMEOUT_MS));
}

/** "leader" / "follower" / "standalone" from srvr, for the record (null if it does not answer). */
async function mode(d: NemesisDeps, index: number): Promise<string | null> {
  return modeOf(await srvrOf(d)(index).catch(() => null));
}

async function kill(d: NemesisDeps, index: number): Promise<void> {
  const node = d.target.nodes[index]!;
  const role = await mode(d, index);
  const pid = node.pid;
  const h = d.rec.faultStarted('kill', node.name, `SIGKILL pid ${pid}${role === null ? '' : ` (${role})`}`);
  await node.kill();
  const ready = await d.target.restart(node);
  d.rec.faultHealed(h, ready ? `restarted as pid ${node.pid}` : `restart as pid ${node.pid} NOT ready in time`);
  d.log(`nemesis: killed ${node.name} pid ${pid}${role === null ? '' : ` (${role})`}, restarted as pid ${node.pid}${ready ? '' : ' (not ready)'}`);
}

async function pause(d: NemesisDeps, node: ServerNode, ms: number): Promise<void> {
  const h = d.rec.faultStarted('pause', node.name, `SIGSTOP pid ${node.pid} for ${Math.round(ms)} ms`);
  node.pause();
  await d.pause(ms);
  node.resume();
  d.rec.faultHealed(h, 'SIGCONT');
  d.log(`nemesis: paused ${node.name} pid ${node.pid} for ${Math.round(ms)} ms`);
}

async function partition(d: NemesisDeps, index: number, ms: number): Promise<void> {
  const proxy = d.proxies[index]!;
  const name = d.target.nodes[index]?.name ?? `server ${index + 1}`;
  const h = d.rec.faultStarted('partition', `clients<->${name}`, `link cut for ${Math.round(ms)} ms`);
  proxy.partition();
  await d.pause(ms);
  proxy.heal();
  d.rec.faultHealed(h, 'healed');
  d.log(`nemesis: cut clients from ${name} for ${Math.round(ms)} ms`);
}

/**
 * Sets the log sync delay of a waitfree server started with waitfree.log.fsyncDelayUs=-1 (it
 * re-reads the file at most once a second). Written to a temp name and renamed, so the server
 * never reads half a number.
 */
export function setFsyncDelay(fault_dir: string, delay_us: number): void {
  writeFaultFile(fault_dir, `${Math.round(delay_us)}`);
}

/** Makes every log sync of such a server fail with EIO (until setFsyncDelay heals it). */
export function setFsyncFailing(fault_dir: string): void {
  writeFaultFile(fault_dir, FSYNC_FAIL_TEXT);
}

function writeFaultFile(fault_dir: string, text: string): void {
  const file = join(fault_dir, FSYNC_DELAY_FAULT_FILE);
  writeFileSync(`${file}.tmp`, `${text}\n`);
  renameSync(`${file}.tmp`, file);
}

async function slowDisk(d: NemesisDeps, node: ServerNode, ms: number): Promise<void> {
  const dir = node.spec.fault_dir!;
  const delay_us = Math.round(between(d.rng, SLOW_DISK_DELAY_US));
  const window_ms = ms + SLOW_DISK_EXTRA_MS;
  const h = d.rec.faultStarted('slow-disk', node.name, `log sync +${Math.round(delay_us / 1000)} ms for ${Math.round(window_ms)} ms`);
  setFsyncDelay(dir, delay_us);
  await d.pause(window_ms);
  setFsyncDelay(dir, 0);
  d.rec.faultHealed(h, 'delay 0 (applied within 1 s)');
  d.log(`nemesis: slowed ${node.name}'s log syncs by ${Math.round(delay_us / 1000)} ms for ${Math.round(window_ms)} ms`);
}

/**
 * The server's log syncs fail with EIO for the window (a standalone server goes read-only, an
 * ensemble member leaves its ensemble), then it is stopped, its disk healed and it is restarted
 * on the same data dir: a failed disk is not healed by waiting. The batch whose sync failed was
 * never acknowledged; its clients saw the connection die (unknown outcome).
 */
async function diskFault(d: NemesisDeps, index: number, ms: number): Promise<void> {
  const node = d.target.nodes[index]!;
  const dir = node.spec.fault_dir!;
  const role = await mode(d, index);
  const window_ms = ms + SLOW_DISK_EXTRA_MS;
  const h = d.rec.faultStarted('disk-fault', node.name, `log syncs fail (EIO) for ${Math.round(window_ms)} ms${role === null ? '' : ` (${role})`}, then a restart`);
  setFsyncFailing(dir);
  await d.pause(window_ms);
  setFsyncDelay(dir, 0);
  const pid = node.pid;
  await node.kill();
  const ready = await d.target.restart(node);
  d.rec.faultHealed(h, ready ? `disk healed, restarted as pid ${node.pid}` : `disk healed, restart as pid ${node.pid} NOT ready in time`);
  d.log(`nemesis: failed ${node.name}'s log syncs for ${Math.round(window_ms)} ms${role === null ? '' : ` (${role})`}, restarted pid ${pid} as ${node.pid}${ready ? '' : ' (not ready)'}`);
}

async function partitionPeers(d: NemesisDeps, index: number, ms: number): Promise<void> {
  const peers = d.target.peers!;
  const name = d.target.nodes[index]?.name ?? `server ${index + 1}`;
  const others = d.target.nodes.filter((_, i) => i !== index).map((n) => n.name);
  const window_ms = ms + PARTITION_PEERS_SYNC_TIMEOUTS * peers.sync_timeout_ms;
  const role = await mode(d, index);
  const h = d.rec.faultStarted('partition-peers', `${name}<->{${others.join(',')}}`, `replica links cut for ${Math.round(window_ms)} ms${role === null ? '' : ` (${role})`}`);
  const cut = peers.links.isolate(index);
  try {
    await d.pause(window_ms);
  } finally {
    peers.links.heal();
  }
  d.rec.faultHealed(h, `healed ${cut} proxies`);
  d.log(`nemesis: cut ${name} off from ${others.join(', ')} for ${Math.round(window_ms)} ms`);
}

/** Kinds that can be applied to this target, and why each other one cannot. */
export function applicableKinds(kinds: readonly NemesisKind[], target: Target, proxies: readonly FaultProxy[]): { kinds: NemesisKind[]; skipped: string[] } {
  const skipped: string[] = [];
  const ok = kinds.filter((k) => {
    const why = whyNotApplicable(k, kinds, target, proxies);
    if (why !== null) skipped.push(`${k} (${why})`);
    return why === null;
  });
  return { kinds: ok, skipped };
}

function whyNotApplicable(k: NemesisKind, kinds: readonly NemesisKind[], target: Target, proxies: readonly FaultProxy[]): string | null {
  if (target.nodes.length === 0) return 'no server of ours';
  if (k === 'partition') return proxies.length > 0 ? null : 'no client proxies';
  if (k === 'reconfig') return target.nodes.length > 1 && target.member_lines !== undefined ? null : 'not an ensemble';
  if (k === 'partition-peers') {
    if (target.peers === null || target.nodes.length < 2) return 'not a waitfree ensemble';
    return kinds.includes('reconfig') ? 'not with reconfig: a reconfig makes the replicas dial around the proxies' : null;
  }
  if (FAULT_FILE_KINDS.includes(k)) return target.nodes.every((n) => n.spec.fault_dir !== undefined) ? null : 'waitfree only';
  return null;
}

/** Runs faults until until_ms, the fault bound, or the stop; every fault is healed on return. */
export async function runNemesis(o: NemesisOptions, d: NemesisDeps): Promise<number> {
  const { kinds, skipped } = applicableKinds(o.kinds, d.target, d.proxies);
  if (skipped.length > 0) d.log(`nemesis: cannot be applied here, skipped: ${skipped.join('; ')}`);
  const serial = kinds.filter((k) => k !== 'reconfig');
  const budget = new FaultBudget(o.faults_max);
  const reconfig = kinds.includes('reconfig')
    ? runReconfigNemesis(
        { budget, gap_ms: o.gap_ms, duration_ms: o.duration_ms, until_ms: o.until_ms },
        { rec: d.rec, target: d.target, rng: d.reconfig_rng ?? d.rng, pause: d.pause, log: d.log },
      )
    : Promise.resolve(0);
  const [a, b] = await Promise.all([runSerialFaults(serial, o, d, budget), reconfig]);
  return a + b;
}

/** The faults other than reconfig: one at a time, each healed before the next. */
async function runSerialFaults(kinds: readonly NemesisKind[], o: NemesisOptions, d: NemesisDeps, budget: FaultBudget): Promise<number> {
  let count = 0;
  while (kinds.length > 0 && !budget.exhausted) {
    if (await d.pause(between(d.rng, o.gap_ms))) break;
    if (d.rec.now() >= o.until_ms) break;
    const kind = kinds[Math.floor(d.rng() * kinds.length)]!;
    const r = d.rng();
    const ms = between(d.rng, o.duration_ms);
    const pick = await chooseNode(o, d, r);
    if (pick === null || !budget.take()) break;
    const index = pick.index;
    count++;
    if (kind === 'kill') await kill(d, index);
    else if (kind === 'pause') await pause(d, d.target.nodes[index]!, ms);
    else if (kind === 'slow-disk') await slowDisk(d, d.target.nodes[index]!, ms);
    else if (kind === 'disk-fault') await diskFault(d, index, ms);
    else if (kind === 'partition-peers') await partitionPeers(d, index, ms);
    else await partition(d, Math.min(index, d.proxies.length - 1), ms);
  }
  return count;
}

/** The server this fault hits (--nemesis-target); null when the run stopped while looking. */
async function chooseNode(o: NemesisOptions, d: NemesisDeps, r: number): Promise<PickedNode | null> {
  const policy = o.target_policy ?? 'random';
  const nodes = d.target.nodes;
  const pick = await pickNode(policy, Math.max(1, nodes.length), r, srvrOf(d), (ms) => d.pause(ms), o.target_search);
  // the search may have polled past the last moment a fault may start
  if (pick === null || d.rec.now() >= o.until_ms) return null;
  if (policy !== 'random') d.log(`nemesis: target ${nodes[pick.index]?.name ?? pick.index}: ${pick.why}`);
  return pick;
}
