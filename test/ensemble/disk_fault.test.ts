// A member whose disk fails, in a real 3-replica ensemble (each member's files on a tmpfs of its
// own, filled up during the test). What a user relies on, as with Apache ZooKeeper since
// ZOOKEEPER-2247: one bad disk does not take the ensemble's writes down with it.
// - the leader's log cannot be written: it gives up leading, the others elect a leader among
//   themselves and writes go on; no acknowledged write is lost;
// - a follower's log cannot be written: it stops following (it can acknowledge nothing), its
//   clients move to the other members, and writes go on;
// - a follower whose disk is full when an election comes cannot record the new epoch: it leaves
//   the same way, and the others elect without it;
// - either way the member says why (FATAL DISK ERROR in its log, `srvr` not serving) and, once
//   the space is back and it is restarted, it rejoins and catches up.
// Needs root and tmpfs; skipped with the reason printed where mounting is impossible.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { ZK_NOT_SERVING } from '../../src/admin/four_letter.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { leaderSid as leaderOf, modeOf, serving } from '../support/ensemble_roles.js';
import { startWriteLoad } from '../support/write_load.js';

const SETTLE_MS = 60_000;
const TEST_MS = 240_000;
const MEMBERS = 3;
const TMPFS_SIZE = '24m';
const FILL_FILE = 'fill';

const root = mkdtempSync(join(tmpdir(), 'waitfree-ens-diskfault-'));
const mounted: string[] = [];

function tryMount(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push(dir);
    return null;
  } catch (e) {
    return `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`;
  }
}

function mountAll(base: string): string | null {
  for (let sid = 1; sid <= MEMBERS; sid++) {
    const why = tryMount(join(base, `r${sid}`));
    if (why !== null) return why;
  }
  return null;
}

const probe_dir = join(root, 'probe');
const skip_reason = tryMount(probe_dir);
if (skip_reason !== null) console.log(`disk_fault.test.ts skipped: ${skip_reason}`);

function unmountAll(): void {
  while (mounted.length > 0) {
    const dir = mounted.pop()!;
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
}

afterAll(() => {
  unmountAll();
  rmSync(root, { recursive: true, force: true });
});

/** Fills the file system of member `sid` so that its next log segment cannot be written. */
function fillDisk(e: Ensemble, sid: number): void {
  const dir = join(e.dir, `r${sid}`);
  const free = statfsSync(dir);
  writeFileSync(join(dir, FILL_FILE), new Uint8Array(Number(free.bavail) * Number(free.bsize)));
}

function freeDisk(e: Ensemble, sid: number): void {
  unlinkSync(join(e.dir, `r${sid}`, FILL_FILE));
}

async function waitForOutput(e: Ensemble, sid: number, pattern: RegExp, timeout_ms: number): Promise<void> {
  for (let waited = 0; !pattern.test(e.member(sid).output()); waited += 50) {
    if (waited >= timeout_ms) throw new Error(`server.${sid} did not print ${pattern} within ${timeout_ms} ms:\n${e.member(sid).output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function childrenAt(e: Ensemble, sid: number, path: string): Promise<Set<string>> {
  const c = await ZooKeeperClient.connect(`127.0.0.1:${e.member(sid).client_port}`, { sessionTimeout_ms: 10_000 });
  try {
    await c.sync(path);
    return new Set(await c.getChildren(path));
  } finally {
    await c.close();
  }
}

describe('a disk fault in a 3-replica ensemble', () => {
  let e: Ensemble | null = null;
  let base = '';
  let run = 0;
  afterEach(async () => {
    await e?.stop();
    e = null;
    unmountAll();
    if (skip_reason === null) tryMount(probe_dir);
  });

  async function start(): Promise<Ensemble> {
    base = join(root, `run${run++}`);
    const why = mountAll(base);
    if (why !== null) throw new Error(why);
    // Small segments: a full disk shows at the next segment, within a few hundred writes.
    return startEnsemble({ replicas: MEMBERS, dir: base, extra_cfg: ['waitfree.log.segmentBytes=256KiB', 'snapCount=1000000'] });
  }

  for (const victim of ['leader', 'follower'] as const) {
    it.skipIf(skip_reason !== null)(`the ${victim}'s log cannot be written: writes go on at the others, nothing acknowledged is lost, it rejoins after a restart`, async () => {
      const ens = (e = await start());
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      const leader = await leaderOf(ens, SETTLE_MS);
      const sid = victim === 'leader' ? leader : ens.members.find((m) => m.sid !== leader)!.sid;
      const load = await startWriteLoad({ connectString: ens.connectString, root: '/load', clients: 4, writes_max: 20_000, duration_ms_max: 120_000 });
      try {
        await load.reach(100, 30_000);
        fillDisk(ens, sid);
        await waitForOutput(ens, sid, /FATAL DISK ERROR: the txn log cannot be written: ENOSPC.*This member leaves the ensemble/, 60_000);
        const at_fault = load.acknowledged.length;
        // The others serve, led by one of them; the victim answers but serves nobody.
        const others = ens.members.filter((m) => m.sid !== sid);
        const a = await ens.waitFor(
          (ans) => ans.get(sid)?.trim() === ZK_NOT_SERVING && others.every((m) => ['leader', 'follower'].includes(modeOf(ans.get(m.sid)) ?? '')) && others.some((m) => modeOf(ans.get(m.sid)) === 'leader'),
          SETTLE_MS,
        );
        expect(a.get(sid)?.trim()).toBe(ZK_NOT_SERVING);
        await load.reach(at_fault + 200, 60_000);
        // It left the ensemble without crashing: no failed worker, no exit.
        expect(ens.member(sid).alive()).toBe(true);
        expect(ens.member(sid).output()).not.toMatch(/worker failed|exited with code/);
      } finally {
        await load.stop();
      }
      expect(load.errors).toEqual([]);
      freeDisk(ens, sid);
      await ens.restart(sid);
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      for (const m of ens.members) {
        const seen = await childrenAt(ens, m.sid, '/load');
        const lost = load.acknowledged.filter((p) => !seen.has(p.slice('/load/'.length)));
        expect(lost, `server.${m.sid} lacks acknowledged writes`).toEqual([]);
      }
    }, TEST_MS);
  }

  it.skipIf(skip_reason !== null)('a follower whose disk is full when an election comes cannot record the new epoch: it leaves, the other two elect', async () => {
    const ens = (e = await start());
    await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderOf(ens, SETTLE_MS);
    const [victim, other] = ens.members.filter((m) => m.sid !== leader).map((m) => m.sid);
    const c = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(other!).client_port}`, { sessionTimeout_ms: 10_000 });
    await c.create('/before', 'x');
    await c.close();
    fillDisk(ens, victim!); // idle: nothing is logged until the election
    await ens.kill(leader, 'SIGKILL');
    await waitForOutput(ens, victim!, /FATAL DISK ERROR: the epoch file .* cannot be written: ENOSPC.*This member leaves the ensemble/, SETTLE_MS);
    await ens.restart(leader);
    const a = await ens.waitFor(
      (ans) => ans.get(victim!)?.trim() === ZK_NOT_SERVING && [leader, other!].every((sid) => ['leader', 'follower'].includes(modeOf(ans.get(sid)) ?? '')),
      SETTLE_MS,
    );
    expect([leader, other].map((sid) => modeOf(a.get(sid!))).sort()).toEqual(['follower', 'leader']);
    const w = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 10_000 });
    try {
      await w.create('/after', 'y');
      expect((await w.getData('/before')).data?.toString()).toBe('x');
    } finally {
      await w.close();
    }
    expect(ens.member(victim!).alive()).toBe(true);
    expect(ens.member(victim!).output()).not.toMatch(/worker failed|exited with code/);
    freeDisk(ens, victim!);
    await ens.restart(victim!);
    await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
    expect(await childrenAt(ens, victim!, '/')).toEqual(new Set(['before', 'after', 'zookeeper']));
  }, TEST_MS);
});
