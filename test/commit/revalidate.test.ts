// A client reattaching to a learner is answered by the leader's word (REVALIDATE), not by the
// learner's own session table, which may lag: the leader alone decides expiry. The leader's side:
// a live session with its own password is valid, and its timeout restarts; the learner's side:
// the leader's answer wins over its table, both ways. And the leader knows which server holds
// each session: a write from a server the client has left is SESSIONMOVED.

import { describe, expect, it } from 'vitest';
import { CommitCore, type Origin } from '../../src/commit/commit_core.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { workingTreeOf } from '../support/read_trees.js';
import { OPEN_ACL } from '../server/harness.js';

const options = { server_id: 1, tick_ms: 100, ttl_enabled: false, secret: new Uint8Array(32), reap_interval_ms: 1000, reap_per_check_max: 10 };
const o = (conn_id: number): Origin => ({ shard: 0, conn_id, xid: 0 });
const passwd = new Uint8Array(16).fill(3);
const wrong = new Uint8Array(16).fill(4);

/** A core recovered with session 77n (timeout 1000 ms, password `passwd`). */
function coreWithSession(now_ms: () => number): CommitCore {
  const tree = new DataTree();
  tree.apply({ header: { session_id: 77n, cxid: 1, zxid: 1, time_ms: 1 }, op: { kind: 'createSession', timeout_ms: 1000, passwd } });
  return new CommitCore(options, { now_ms }, { view: workingTreeOf(tree), sessions: new Map([[77n, { timeout_ms: 1000, passwd }]]) });
}

/** The leader's REVALIDATE answer to learner 2 (question `token`), from what the core published. */
function answered(core: CommitCore, token: number): boolean {
  const a = core.take().find((p) => p.kind === 'revalidated');
  if (a?.kind !== 'revalidated' || a.peer !== 2 || a.token !== token) throw new Error('no REVALIDATE answer to learner 2');
  return a.valid;
}

const NOOP = { kind: 'txn', origin: null, txn: { header: { session_id: 0n, cxid: 0 }, op: { kind: 'error', err: 0 } } };

describe('REVALIDATE at the leader', () => {
  it('a live session with its own password is valid; a wrong password or an unknown session is not', () => {
    const core = coreWithSession(() => 10_000);
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(answered(core, 1)).toBe(true);
    core.revalidate(2, 2, 77n, wrong, 1000);
    expect(answered(core, 2)).toBe(false);
    core.revalidate(2, 3, 78n, passwd, 1000);
    expect(answered(core, 3)).toBe(false);
  });

  it('restarts the session timeout (the client is back), so it does not expire on the old deadline', () => {
    let now = 10_000;
    const core = coreWithSession(() => now);
    core.beginEpoch(1);
    now += 900;
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(answered(core, 1)).toBe(true);
    now += 500; // 1400 ms after the last touch before it, 500 after the revalidation
    core.tick();
    expect(core.take()).toEqual([]);
    now += 800;
    core.tick();
    expect(core.take()).toMatchObject([{ kind: 'txn', txn: { header: { session_id: 77n }, op: { kind: 'closeSession' } } }]);
  });

  it('a session being closed is not valid', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.reattach(o(1), 77n, passwd, 1000);
    core.take();
    core.request({ ...o(1), xid: 5 }, 77n, Op.closeSession, null);
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(answered(core, 1)).toBe(false);
  });

  it('closes the connection the leader held for the session: its client moved to a learner', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.reattach(o(1), 77n, passwd, 1000);
    core.take();
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(core.take()).toMatchObject([{ kind: 'close_conn', shard: 0, conn_id: 1 }, NOOP, { kind: 'revalidated', valid: true }]);
    expect(core.ownerOf(77n)).toBeNull();
  });

  it('having led, answers only behind a no-op txn (released once a quorum commits it), yes or no, here or to a learner', () => {
    const core = coreWithSession(() => 10_000);
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(core.take()).toEqual([{ kind: 'revalidated', peer: 2, token: 1, session_id: 77n, valid: true }]); // never led: nothing to confirm
    core.beginEpoch(1);
    core.revalidate(2, 2, 77n, wrong, 1000);
    expect(core.take()).toMatchObject([NOOP, { kind: 'revalidated', token: 2, valid: false }]);
    core.reattach(o(1), 77n, passwd, 1000);
    expect(core.take()).toMatchObject([NOOP, { kind: 'session', session_id: 77n, ok: true }]);
    core.reattach(o(2), 78n, passwd, 1000);
    expect(core.take()).toMatchObject([NOOP, { kind: 'session', session_id: 0n, ok: false }]);
  });
});

describe('a reattach at a learner, with the leader\'s answer', () => {
  it('the leader says expired: refused, though this learner\'s table still holds the session with that password', () => {
    const core = coreWithSession(() => 10_000);
    core.follow();
    core.reattach(o(1), 77n, passwd, 1000);
    core.take();
    core.reattach(o(2), 77n, passwd, 1000, false);
    expect(core.take()).toEqual([
      { kind: 'close_conn', shard: 0, conn_id: 1 },
      { kind: 'session', origin: o(2), session_id: 0n, timeout_ms: 0, passwd: new Uint8Array(16), ok: false },
    ]);
  });

  it('the leader vouches for a session this learner has not applied yet: accepted, and its createSession applies once', () => {
    const core = coreWithSession(() => 10_000);
    core.follow();
    const fresh = new Uint8Array(16).fill(9);
    core.reattach(o(3), 90n, fresh, 2000, true);
    expect(core.take()).toEqual([{ kind: 'session', origin: o(3), session_id: 90n, timeout_ms: 2000, passwd: fresh, ok: true }]);
    expect(core.ownerOf(90n)).toEqual({ shard: 0, conn_id: 3 });
    core.applyCommitted({ header: { session_id: 90n, cxid: 0, zxid: 2, time_ms: 1 }, op: { kind: 'createSession', timeout_ms: 2000, passwd: fresh } });
    expect(core.sessionStates().filter((s) => s.session_id === 90n)).toEqual([{ session_id: 90n, timeout_ms: 2000, passwd: fresh }]);
    expect(core.ownerOf(90n)).toEqual({ shard: 0, conn_id: 3 }); // the txn does not forget where its client is
  });
});

describe('a reconnect supersedes the connection that held the session here', () => {
  it('at once, before any answer: its close is published and nothing it sends runs until it is gone', () => {
    const core = coreWithSession(() => 10_000);
    core.follow();
    core.reattach(o(19), 77n, passwd, 1000, true);
    core.take();
    expect(core.isSuperseded(0, 19)).toBe(false);
    core.takeOver(o(23), 77n); // a learner, as the reattach arrives (its REVALIDATE is on the way)
    expect(core.take()).toEqual([{ kind: 'close_conn', shard: 0, conn_id: 19 }]);
    expect(core.isSuperseded(0, 19)).toBe(true);
    expect(core.isSuperseded(0, 23)).toBe(false);
    core.takeOver(o(23), 77n); // again (the answer's reattach): nothing more to close
    expect(core.take()).toEqual([]);
    core.connGone(0, 19, 77n);
    expect(core.isSuperseded(0, 19)).toBe(false);
  });

  it('the leader supersedes its own connection when a learner revalidates the session', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.reattach(o(1), 77n, passwd, 1000);
    core.take();
    core.revalidate(2, 1, 77n, passwd, 1000);
    expect(core.isSuperseded(0, 1)).toBe(true);
  });
});

describe('SESSIONMOVED: the leader knows which server holds a session', () => {
  const create = { path: '/x', data: null, acl: OPEN_ACL, flags: 0 };

  /** The ops of the txns the core proposed since the last take. */
  function proposed(core: CommitCore): unknown[] {
    return core.take().flatMap((p) => (p.kind === 'txn' ? [p.txn.op] : []));
  }

  it('after a learner revalidated the session, the leader\'s own connection and other learners are refused; that learner is not', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.reattach(o(1), 77n, passwd, 1000); // held here
    core.take();
    core.request({ ...o(1), xid: 1 }, 77n, Op.create, create);
    expect(proposed(core)).toMatchObject([{ kind: 'create' }]);
    core.revalidate(2, 1, 77n, passwd, 1000); // the client moved to server 2
    expect(answered(core, 1)).toBe(true);
    core.request({ ...o(1), xid: 2 }, 77n, Op.create, { ...create, path: '/y' });
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
    core.remoteRequest(3, 77n, 3, Op.setData, { path: '/x', data: null, version: -1 }, []);
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
    core.remoteRequest(3, 77n, 4, Op.sync, { path: '/' }, []);
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
    core.remoteRequest(2, 77n, 5, Op.create, { ...create, path: '/z' }, []);
    expect(proposed(core)).toMatchObject([{ kind: 'create', path: '/z' }]);
    // closeSession is never refused (ZooKeeper: the session's last request, or its expiry).
    core.request({ ...o(1), xid: 6 }, 77n, Op.closeSession, null);
    expect(proposed(core)).toMatchObject([{ kind: 'closeSession' }]);
  });

  it('a session a learner created is held there; a new leader learns the holder from the first write', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.remoteCreateSession(2, 90n, 2000, passwd);
    core.take();
    core.remoteRequest(3, 90n, 1, Op.create, create, []);
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
    core.beginEpoch(2); // leads again: holders forgotten
    core.remoteRequest(3, 90n, 2, Op.create, create, []);
    expect(proposed(core)).toMatchObject([{ kind: 'create' }]);
    core.remoteRequest(2, 90n, 3, Op.create, { ...create, path: '/w' }, []);
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
    core.request({ ...o(1), xid: 4 }, 90n, Op.create, { ...create, path: '/v' });
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONMOVED }]);
  });

  it('a write of an unknown session is SESSIONEXPIRED, not SESSIONMOVED', () => {
    const core = coreWithSession(() => 10_000);
    core.beginEpoch(1);
    core.remoteRequest(3, 55n, 1, Op.create, create, []);
    expect(proposed(core)).toEqual([{ kind: 'error', err: Err.SESSIONEXPIRED }]);
  });
});
