// The runner's pieces against a real waitfree (launched as `waitfree check --launch standalone`
// launches it): what the recorder writes down for each kind of answer, that recorded calls are
// never retried, and the fault injectors (server kill/restart, pause, the partitioning proxy).

import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZooKeeperError } from '../../src/client/index.js';
import { FaultProxy } from '../../src/check/proxy.js';
import { RecordedClient, Recorder } from '../../src/check/recorder.js';
import { openTarget, type Target } from '../../src/check/targets.js';
import { recordedCreate, recordedRead, recordedWrite } from '../../src/check/workloads/common.js';

const CLIENT = { sessionTimeout_ms: 10_000, requestTimeout_ms: 3_000, connectTimeout_ms: 10_000 };

describe('recorder and fault injectors on waitfree', () => {
  let target: Target;
  let rec: Recorder;
  beforeAll(async () => {
    target = await openTarget({ kind: 'launch', launch: 'standalone' });
    rec = new Recorder(10_000);
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('records results, definite failures, reply zxids and arrival order', async () => {
    const c = await RecordedClient.connect(rec, target.connect_string, 't1', CLIENT);
    try {
      const created = await recordedCreate(c, 'register', '/a', '/a', 'v0', false);
      const w = await recordedWrite(c, 'register', '/a', '/a', 'v1', 0);
      const bad = await recordedWrite(c, 'register', '/a', '/a', 'v2', 0);
      const read = await recordedRead(c, { model: 'register', key: '/a', path: '/a', synced: true });
      const absent = await recordedRead(c, { model: 'register', key: '/b', path: '/b', synced: false });
      expect(created.op).toMatchObject({ outcome: 'ok', f: 'create' });
      expect(created.op.zxid).toBeGreaterThan(0);
      // the reply header's zxid is the write's own zxid
      expect(w.op).toMatchObject({ outcome: 'ok', output: { version: 1, mzxid: w.op.zxid } });
      expect(bad.op).toMatchObject({ outcome: 'fail', error: 'BADVERSION', output: null });
      expect(bad.op.complete_ms).not.toBeNull();
      expect(bad.op.zxid).toBeGreaterThanOrEqual(w.op.zxid!);
      expect(read.op).toMatchObject({ outcome: 'ok', output: { exists: true, value: 'v1', version: 1, mzxid: w.op.zxid } });
      expect(read.op.sync_ms).not.toBeNull();
      expect(read.op.sync_ms!).toBeLessThanOrEqual(read.op.invoke_ms);
      expect(absent.op).toMatchObject({ outcome: 'ok', output: { exists: false }, sync_ms: null });
      const ops = [created, w, bad, read, absent].map((r) => r.op);
      for (let i = 1; i < ops.length; i++) {
        expect(ops[i]!.invoke_seq).toBeGreaterThan(ops[i - 1]!.reply_seq!);
        expect(ops[i]!.reply_seq!).toBeGreaterThan(ops[i]!.invoke_seq);
      }
    } finally {
      await c.close();
    }
  });

  it('a call cut by a crash is unknown and not retried; the restarted server kept the session', async () => {
    const c = await RecordedClient.connect(rec, target.connect_string, 't2', CLIENT);
    try {
      await c.client.create('/crash', 'x');
      const node = target.nodes[0]!;
      node.pause();
      // The premise is a write the server never reads: every thread must be stopped first (a
      // running one could still take it, as in the test below).
      expect(await allThreadsStopped(node.pid!), 'the server stopped').toBe(true);
      const pending = recordedWrite(c, 'register', '/crash', '/crash', 'y', 0);
      await new Promise((r) => setTimeout(r, 200));
      await node.kill();
      const r = await pending;
      expect(r.op).toMatchObject({ outcome: 'unknown', error: 'CONNECTIONLOSS', complete_ms: null, zxid: null });
      expect(await target.restart(node)).toBe(true);
      await c.client.ready({ timeout_ms: 15_000 });
      // the write never reached the server: a retry would have applied it after the restart
      await new Promise((r) => setTimeout(r, 300));
      const after = await c.client.getData('/crash');
      expect(after.stat.version).toBe(0);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('a paused server answers once resumed', async () => {
    const c = await RecordedClient.connect(rec, target.connect_string, 't3', CLIENT);
    try {
      const node = target.nodes[0]!;
      node.pause();
      // SIGSTOP takes effect when each thread next enters the kernel; on a loaded VM a running
      // thread can go on for a while (the stop's IPI waits for its vCPU), long enough to answer.
      expect(await allThreadsStopped(node.pid!), 'the server stopped').toBe(true);
      let done = false;
      const p = c.client.exists('/').then(() => (done = true));
      try {
        await new Promise((r) => setTimeout(r, 500));
        expect(done).toBe(false);
      } finally {
        node.resume();
      }
      await p;
      expect(done).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('the proxy cuts the link while partitioned and passes new connections once healed', async () => {
    const port = Number(target.connect_string.split(':')[1]);
    const proxy = await FaultProxy.start('127.0.0.1', port);
    const c = await RecordedClient.connect(rec, proxy.connect_string, 't4', { ...CLIENT, requestTimeout_ms: 800 });
    try {
      await c.client.exists('/');
      proxy.partition();
      const cut = await c.client.exists('/', { timeout_ms: 800 }).then(
        () => 'answered',
        (e: unknown) => (isZooKeeperError(e, 'REQUESTTIMEOUT', 'CONNECTIONLOSS') ? 'cut' : String(e)),
      );
      expect(cut).toBe('cut');
      const accepted = proxy.accepted;
      proxy.heal();
      await c.client.ready({ timeout_ms: 10_000 });
      expect(await c.client.exists('/')).not.toBeNull();
      expect(proxy.accepted).toBeGreaterThan(accepted - 1);
    } finally {
      await c.close();
      await proxy.close();
    }
  }, 30_000);
});

/** Whether every thread of `pid` is in the stopped state ('T' in /proc/PID/task/TID/stat) within 5 s. */
async function allThreadsStopped(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  const state = (tid: string): string => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      return 'T'; // the thread is gone: it runs nothing
    }
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  };
  while (Date.now() < deadline) {
    if (readdirSync(`/proc/${pid}/task`).every((tid) => state(tid) === 'T')) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
