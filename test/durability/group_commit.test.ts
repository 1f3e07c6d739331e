// Group commit, sans-IO: what is released when, in which order, and what a failed batch turns
// into. Plus CommitCore's read-only mode and recovered sessions.

import { describe, expect, it } from 'vitest';
import { CommitCore, EXPIRY_DEFERRAL_MS_MAX, type Origin, type Publication } from '../../src/commit/commit_core.js';
import { GroupCommit } from '../../src/commit/group_commit.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { workingTreeOf } from '../support/read_trees.js';
import { txnFromBytes } from '../../src/tree/txn_codec.js';
import type { Txn } from '../../src/tree/txn.js';

const o = (conn_id: number, xid: number): Origin => ({ shard: 0, conn_id, xid });

function txnPub(zxid: number, origin: Origin | null): Publication {
  const txn: Txn = { header: { session_id: 5n, cxid: origin?.xid ?? 0, zxid, time_ms: 1000 + zxid }, op: { kind: 'error', err: -101 } };
  return { kind: 'txn', origin, txn };
}

function drain(gc: GroupCommit): string[] {
  const out: string[] = [];
  gc.release((p, body, start, end) => {
    if (p.kind === 'txn') {
      // The body handed out is the txn's own encoding (the commit stream carries it as is).
      expect(txnFromBytes(body!.subarray(start, end))).toEqual(p.txn);
      out.push(`txn${p.txn.header.zxid}`);
    } else if (p.kind === 'close_conn') out.push(`close${p.conn_id}`);
    else out.push(p.kind);
  });
  return out;
}

const opts = { txns_max: 3, bytes_max: 1 << 20, wait_us: 0 };

describe('group commit', () => {
  it('releases a txn only after its batch is durable, and later publications never overtake it', () => {
    const gc = new GroupCommit(opts, 0);
    gc.add([txnPub(1, o(1, 1)), { kind: 'sync', origin: o(2, 1), path: '/' }, txnPub(2, o(1, 2))], 0);
    expect(drain(gc)).toEqual([]);
    expect(gc.due(0)).toBe(true);
    const b1 = gc.take(0);
    expect([b1.first_zxid, b1.last_zxid, b1.count]).toEqual([1, 2, 2]);
    // While batch 1 is in flight, more txns fill batch 2 (pipelining); a sync waits for them too.
    gc.add([txnPub(3, o(3, 1)), { kind: 'sync', origin: o(4, 1), path: '/x' }, { kind: 'error', origin: o(5, 1), err: -4 }], 1);
    expect(gc.due(1)).toBe(false);
    gc.complete(b1.seq);
    expect(gc.durable_zxid).toBe(2);
    expect(drain(gc)).toEqual(['txn1', 'sync', 'txn2']);
    const b2 = gc.take(2);
    expect(drain(gc)).toEqual([]);
    gc.complete(b2.seq);
    expect(drain(gc)).toEqual(['txn3', 'sync', 'error']);
  });

  it('publications with no txn before them go out at once', () => {
    const gc = new GroupCommit(opts, 7);
    gc.add([{ kind: 'sync', origin: o(1, 1), path: '/' }, { kind: 'close_conn', shard: 0, conn_id: 9 }], 0);
    expect(drain(gc)).toEqual(['sync', 'close9']);
  });

  it('a full batch while one is in flight tells the caller to stop taking input', () => {
    const gc = new GroupCommit(opts, 0);
    gc.add([txnPub(1, null)], 0);
    gc.take(0);
    gc.add([txnPub(2, null), txnPub(3, null)], 0);
    expect(gc.full).toBe(false);
    gc.add([txnPub(4, null)], 0);
    expect(gc.full).toBe(true);
  });

  it('no batch exceeds batchTxnsMax or batchBytesMax, however many txns arrive at once', () => {
    const gc = new GroupCommit(opts, 0);
    gc.add(Array.from({ length: 10 }, (_, i) => txnPub(i + 1, o(1, i + 1))), 0);
    const sizes: number[][] = [];
    while (gc.due(0)) {
      const b = gc.take(0);
      sizes.push([b.first_zxid, b.last_zxid, b.count]);
      gc.complete(b.seq);
    }
    expect(sizes).toEqual([[1, 3, 3], [4, 6, 3], [7, 9, 3], [10, 10, 1]]);
    expect(drain(gc)).toEqual(Array.from({ length: 10 }, (_, i) => `txn${i + 1}`));
    // Bytes: each record here is ~40 bytes; a 100-byte bound seals after the record that crosses it.
    const by_bytes = new GroupCommit({ txns_max: 1000, bytes_max: 100, wait_us: 0 }, 0);
    by_bytes.add(Array.from({ length: 7 }, (_, i) => txnPub(i + 1, null)), 0);
    const counts: number[] = [];
    while (by_bytes.due(0)) {
      const b = by_bytes.take(0);
      // Equal-sized records: the batch was under the bound before its last record.
      const record_bytes = (b.end - b.start) / b.count;
      expect((b.count - 1) * record_bytes).toBeLessThan(100);
      counts.push(b.count);
      by_bytes.complete(b.seq);
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(7);
    expect(counts.length).toBeGreaterThan(1);
  });

  it('txn_room bounds what may be read: two batches when idle, one behind a write in flight', () => {
    const gc = new GroupCommit(opts, 0); // txns_max 3
    expect(gc.txn_room()).toBe(6);
    gc.add([txnPub(1, null), txnPub(2, null)], 0);
    expect(gc.txn_room()).toBe(4);
    const b = gc.take(0);
    expect(gc.txn_room()).toBe(3); // one batch may fill while the write is in flight
    gc.add([txnPub(3, null), txnPub(4, null), txnPub(5, null)], 0);
    expect(gc.txn_room()).toBe(0);
    expect(gc.full).toBe(true);
    gc.complete(b.seq);
    expect(gc.txn_room()).toBe(3);
  });

  it('batchWaitUs holds a lone txn back until the wait is over or the batch is full', () => {
    const gc = new GroupCommit({ ...opts, wait_us: 500 }, 0);
    gc.add([txnPub(1, null)], 1000);
    expect(gc.due(1200)).toBe(false);
    expect(gc.due_at_us()).toBe(1500);
    expect(gc.due(1500)).toBe(true);
    gc.add([txnPub(2, null), txnPub(3, null)], 1300);
    expect(gc.due(1300)).toBe(true); // at txns_max
  });

  it('a failed batch: its txns and every later one become lost connections, nothing is committed', () => {
    const gc = new GroupCommit(opts, 0);
    gc.add([txnPub(1, o(1, 1))], 0);
    gc.complete(gc.take(0).seq);
    expect(drain(gc)).toEqual(['txn1']);
    gc.add([txnPub(2, o(2, 1)), txnPub(3, null), { kind: 'sync', origin: o(3, 1), path: '/' }], 0);
    const b = gc.take(0);
    gc.add([txnPub(4, o(4, 1))], 0);
    gc.fail(b.seq);
    expect(drain(gc)).toEqual(['close2', 'sync', 'close4']);
    expect(gc.durable_zxid).toBe(1);
    gc.add([txnPub(5, o(5, 1)), { kind: 'session', origin: o(6, 0), session_id: 9n, timeout_ms: 1, passwd: new Uint8Array(16), ok: true }], 0);
    expect(gc.due(0)).toBe(false);
    expect(drain(gc)).toEqual(['close5', 'session']);
  });
});

describe('commit core: recovered sessions and read-only mode', () => {
  const options = { server_id: 1, tick_ms: 100, ttl_enabled: false, secret: new Uint8Array(32), reap_interval_ms: 1000, reap_per_check_max: 10 };

  it('recovered sessions can be reattached, and expire (deleting ephemerals) if nobody comes back', () => {
    let now = 10_000;
    const tree = new DataTree();
    const passwd = new Uint8Array(16).fill(3);
    tree.apply({ header: { session_id: 77n, cxid: 1, zxid: 1, time_ms: 1 }, op: { kind: 'createSession', timeout_ms: 1000, passwd } });
    tree.apply({
      header: { session_id: 77n, cxid: 2, zxid: 2, time_ms: 1 },
      op: { kind: 'create', path: '/e', data: null, acl: [], ephemeral_owner: 77n, parent_cversion: 1, opcode: 1 },
    });
    const restored = { view: workingTreeOf(tree), sessions: new Map([[77n, { timeout_ms: 1000, passwd }], [78n, { timeout_ms: 3000, passwd }]]) };
    const core = new CommitCore(options, { now_ms: () => now }, restored);
    core.reattach(o(1, 0), 78n, passwd, 3000);
    expect(core.take()).toMatchObject([{ kind: 'session', ok: true, session_id: 78n }]);
    now += 900;
    core.tick();
    expect(core.take()).toEqual([]); // the whole timeout counts from the restart
    now += 300;
    core.tick();
    const out = core.take();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'txn', txn: { header: { session_id: 77n, zxid: 3 }, op: { kind: 'closeSession', paths: ['/e'] } } });
    expect(core.view.get('/e')).toBeUndefined();
  });

  /** A core recovered with one session (77n, timeout 1000 ms) and nothing else. */
  function oneSessionCore(now_ms: () => number): CommitCore {
    const tree = new DataTree();
    const passwd = new Uint8Array(16).fill(3);
    tree.apply({ header: { session_id: 77n, cxid: 1, zxid: 1, time_ms: 1 }, op: { kind: 'createSession', timeout_ms: 1000, passwd } });
    return new CommitCore(options, { now_ms }, { view: workingTreeOf(tree), sessions: new Map([[77n, { timeout_ms: 1000, passwd }]]) });
  }

  it('expiry waits while touches may be stuck behind a full pipeline, but at most EXPIRY_DEFERRAL_MS_MAX', () => {
    let now = 10_000;
    const core = oneSessionCore(() => now);
    const expiredAt = (): boolean => core.take().some((p) => p.kind === 'txn' && p.txn.op.kind === 'closeSession');
    now += 2_000; // past the timeout, but touches wait unread
    core.tick(true);
    expect(expiredAt()).toBe(false);
    expect(core.next_tick_ms()).toBeGreaterThan(now); // looked at again a tick later, not at once
    now += EXPIRY_DEFERRAL_MS_MAX - 100;
    core.tick(true);
    expect(expiredAt()).toBe(false);
    now += 200; // deferred for longer than the bound: expires even though input still waits
    core.tick(true);
    expect(expiredAt()).toBe(true);
  });

  it('a session past its timeout expires once nothing has waited unread for a whole tick (touches still between threads arrive meanwhile)', () => {
    let now = 10_000;
    const core = oneSessionCore(() => now);
    now += 2_000;
    core.tick(true);
    expect(core.take()).toEqual([]);
    now += 50;
    core.tick(false); // the backlog looks empty: its last touches may still be in transit
    expect(core.take()).toEqual([]);
    now += 30;
    core.touch([77n]); // and one arrives: the session lives on
    core.tick(false);
    expect(core.take()).toEqual([]);
    now += 100;
    core.tick(false); // a whole tick (100 ms) with nothing waiting: the deferral is over
    expect(core.take()).toEqual([]); // touched 100 ms ago, timeout 1000 ms
    now += 1_000;
    core.tick(false);
    expect(core.take()).toMatchObject([{ kind: 'txn', txn: { op: { kind: 'closeSession' } } }]);
  });

  it('a new session does not expire before its createSession is released; its timeout runs from then', () => {
    let now = 10_000;
    const core = new CommitCore(options, { now_ms: () => now }, { view: workingTreeOf(new DataTree()), sessions: new Map() });
    const closes = (): number => core.take().filter((p) => p.kind === 'txn' && p.txn.op.kind === 'closeSession').length;
    core.createSession(o(1, 0), 1000);
    const created = core.take()[0] as Extract<Publication, { kind: 'txn' }>;
    expect(created.txn.op.kind).toBe('createSession');
    now += 5_000; // its log sync takes longer than the timeout
    core.tick();
    expect(closes()).toBe(0);
    core.born(created.txn.header.session_id);
    now += 900;
    core.tick();
    expect(closes()).toBe(0); // a whole timeout from its birth
    now += 1_000;
    core.tick();
    expect(closes()).toBe(1);
  });

  it('a createSession never released keeps its session alive at most EXPIRY_DEFERRAL_MS_MAX', () => {
    let now = 10_000;
    const core = new CommitCore(options, { now_ms: () => now }, { view: workingTreeOf(new DataTree()), sessions: new Map() });
    const closes = (): number => core.take().filter((p) => p.kind === 'txn' && p.txn.op.kind === 'closeSession').length;
    core.createSession(o(1, 0), 1000);
    core.take();
    now += EXPIRY_DEFERRAL_MS_MAX - 100;
    core.tick();
    expect(closes()).toBe(0);
    now += 200;
    core.tick(); // given up on: the session runs its timeout from its last touch
    now += 1_500;
    core.tick();
    expect(closes()).toBe(1);
  });

  it('without a touch in transit, a deferred session expires a tick after the backlog clears', () => {
    let now = 10_000;
    const core = oneSessionCore(() => now);
    now += 2_000;
    core.tick(true);
    now += 50;
    core.tick(false);
    expect(core.take()).toEqual([]);
    now += 100;
    core.tick(false);
    expect(core.take()).toMatchObject([{ kind: 'txn', txn: { op: { kind: 'closeSession' } } }]);
  });

  it('read-only: writes get NOTREADONLY without a txn, sync still answers, new sessions are local', () => {
    const core = new CommitCore(options, { now_ms: () => 5_000 }, { view: workingTreeOf(new DataTree()), sessions: new Map() });
    core.createSession(o(1, 0), 1000);
    const created = core.take()[0] as Extract<Publication, { kind: 'txn' }>;
    const sid = created.txn.header.session_id;
    core.setReadOnly('ENOSPC');
    core.request(o(1, 1), sid, Op.create, { path: '/a', data: null, acl: [], flags: 0 });
    core.request(o(1, 2), sid, Op.sync, { path: '/' });
    core.createSession(o(2, 0), 1000);
    const out = core.take();
    expect(out.map((p) => p.kind)).toEqual(['error', 'sync', 'session']);
    expect(out[0]).toMatchObject({ err: Err.NOTREADONLY });
    expect(out[2]).toMatchObject({ ok: true });
    expect(core.last_zxid).toBe(1);
  });
});
