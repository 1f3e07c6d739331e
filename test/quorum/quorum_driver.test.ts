// The Zab driver (QuorumDriver) as the commit worker runs it, over the product's CommitCore and
// GroupCommit, leading two hand-driven ZabCores (test/zab/harness.ts). What it must get right
// between events of one pump: a write a learner forwarded is prepped by the leader's CommitCore;
// if the next event in the same pump ends this leadership, the prepped txn must already be the
// leader's proposal (in its log window), never a txn left in the CommitCore's outbox to be
// proposed after the leader stepped down (which the driver refuses: a broken invariant that
// stopped the replica).

import { describe, expect, it } from 'vitest';
import { CommitCore } from '../../src/commit/commit_core.js';
import { GroupCommit } from '../../src/commit/group_commit.js';
import { Op } from '../../src/protocol/opcodes.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest, isMalformed, readServerRequest } from '../../src/protocol/messages.js';
import type { WriteRequest } from '../../src/tree/prep.js';
import { encodeWrite } from '../../src/quorum/forward_codec.js';
import { QuorumDriver, type QuorumHost } from '../../src/quorum/quorum_driver.js';
import { zabInitFor } from '../../src/quorum/quorum_setup.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { zabConfig } from '../../src/zab/config.js';
import type { PeerMessage } from '../../src/zab/messages.js';
import { numberOfZxid } from '../../src/quorum/zxid_number.js';
import { workingTreeOf } from '../support/read_trees.js';
import { OPEN_ACL } from '../server/harness.js';
import { Harness } from '../zab/harness.js';

const ELECTION = { finalize_ticks: 0, notify_ticks_min: 2, notify_ticks_max: 8 };
const LEADER = 3;

/** Sid 3 is the driver (the leader: highest sid, equal logs); 1 and 2 are bare cores. */
function ensemble(): { h: Harness; q: QuorumDriver; core: CommitCore; loop: () => void } {
  const h = new Harness([1, 2, 3], [], { election: ELECTION });
  h.cores.delete(LEADER);
  const core = new CommitCore(
    { server_id: LEADER, tick_ms: 1000, ttl_enabled: false, secret: new Uint8Array(32), reap_interval_ms: 1000, reap_per_check_max: 10 },
    { now_ms: () => 0 },
    { view: workingTreeOf(new DataTree()), sessions: new Map() },
  );
  core.follow();
  const gc = new GroupCommit({ txns_max: 16, bytes_max: 1 << 20, wait_us: 0, commit_on_durable: false }, 0);
  let q: QuorumDriver | null = null;
  const stage = (): void => gc.add(core.take(), 0, (zxid, _session, bytes, start, end) => q!.proposeLocal(zxid, bytes.slice(start, end), undefined));
  const host: QuorumHost = {
    core,
    gc,
    write_in_flight: false,
    learnerLogged: () => {},
    persistEpochs: () => {},
    truncateAndReload: () => Promise.reject(new Error('not in this test')),
    installSnapshotAndReload: () => Promise.reject(new Error('not in this test')),
    snapshotAtLeast: () => Promise.reject(new Error('not in this test')),
    revalidated: () => {},
    remoteWrite: (from_sid, session_id, auth, bytes) => {
      // As the commit worker's remoteWrite (a create here: its body is the WriteRequest).
      const r = readServerRequest(new JuteReader(bytes, 0, bytes.length));
      if (isMalformed(r)) throw new Error('the test forwards well-formed requests');
      core.remoteRequest(from_sid, session_id, r.header.xid, r.header.type, r.body as WriteRequest, auth);
    },
    stagePrepped: stage,
    closeAllClients: () => {},
    roleChanged: () => {},
    wake: () => {},
    log: () => {},
    reconfigInFlight: () => {},
    knownCommit: () => {},
  };
  const links = {
    send: (to: number, msg: PeerMessage) => h.inflight.push({ from: LEADER, to, msg }),
    disconnect: () => {},
    flush: () => {},
  };
  q = new QuorumDriver(zabConfig(LEADER, [1, 2, 3], [], { election: ELECTION }), zabInitFor({ accepted_epoch: 0, current_epoch: 0 }, 0, []), host, links, 0, 64);
  const driver = q;
  /** One turn of the commit worker's loop: pump, then stage what was prepped (run()). */
  const loop = (): void => {
    driver.pump();
    stage();
  };
  return { h, q: driver, core, loop };
}

/** Delivers everything in flight (to the driver: queued, stepped by the next loop turn). */
function deliverAll(h: Harness, q: QuorumDriver, loop: () => void): void {
  for (let i = 0; i < 10_000 && h.inflight.length > 0; i++) {
    const m = h.inflight.shift()!;
    if (m.to === LEADER) q.onMessage(m.from, m.msg);
    else h.step(m.to, { type: 'message', from: m.from, msg: m.msg });
    loop();
  }
}

/** A client's create as a learner forwards it (header + body, no length prefix). */
function forwardedCreate(session_id: bigint, path: string): Uint8Array {
  const w = new JuteWriter();
  encodeRequest(1, Op.create, { path, data: null, acl: OPEN_ACL, flags: 0 }, w);
  const frame = w.toBytes();
  return encodeWrite(session_id, [], frame, 4, frame.length);
}

describe('QuorumDriver', () => {
  it('proposes a learner\'s forwarded write before the next event of the same pump, even when that event ends its leadership', () => {
    const { h, q, core, loop } = ensemble();
    q.start();
    for (const sid of [1, 2]) h.step(sid, { type: 'start' });
    for (let t = 0; t < 50 && !(q.serving && h.core(1).serving && h.core(2).serving); t++) {
      deliverAll(h, q, loop);
      h.tickAll(1);
      q.tick();
      loop();
    }
    expect(q.leading && q.serving).toBe(true);
    const window_before = q.zab.window.length;

    // In one pump: follower 1's REQUEST (a create), then voter 2 reconnects with a FOLLOWERINFO
    // showing it promised a later epoch: the leader must step down at that message.
    q.onMessage(1, { type: 'REQUEST', txn: forwardedCreate(7n, '/x') });
    q.onReset(2);
    q.onMessage(2, { type: 'FOLLOWERINFO', sid: 2, accepted_epoch: 99, protocol_version: 0x10000 });
    expect(() => loop()).not.toThrow();

    expect(q.leading).toBe(false);
    // The prepped txn became this leader's proposal (an uncommitted entry of its log) ...
    expect(q.zab.window.length).toBe(window_before + 1);
    expect(numberOfZxid(q.zab.window.last())).toBe(core.last_zxid);
    // ... and nothing prepped was left behind.
    expect(core.has_publications).toBe(false);
  });
});
