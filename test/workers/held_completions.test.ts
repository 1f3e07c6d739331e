import { describe, expect, it } from 'vitest';
import type { Conn } from '../../src/workers/shard/conn.js';
import { HeldCompletions } from '../../src/workers/shard/held_completions.js';
import type { AppliedCompletion, ShardSession } from '../../src/workers/shard/shard_session.js';

// A shard answers what it held for a commit batch at the batch's ROOT, in stream order: a
// reordering would answer a session's later write before its earlier one, and a completion of a
// closed connection would write to a connection that is gone.

function conn(id: number): Conn {
  return { id, state: 'open' } as unknown as Conn;
}

/** Records what the queue asks the session to answer. */
function recorder(): { session: ShardSession; calls: string[] } {
  const calls: string[] = [];
  const session = {
    completeDirect: (c: Conn, xid: number, err: number, zxid: number) => calls.push(`direct ${c.id} xid=${xid} err=${err} zxid=${zxid}`),
    onApplied: (c: Conn, a: AppliedCompletion) => calls.push(`applied ${c.id} xid=${a.xid} zxid=${a.zxid}`),
  } as unknown as ShardSession;
  return { session, calls };
}

function applied(xid: number, zxid: number): AppliedCompletion {
  return { xid, zxid, what: 0, err: 0, body: new Uint8Array(0), session_id: 0n, timeout_ms: 0, passwd: null };
}

describe('HeldCompletions', () => {
  it('answers every kind of completion in the order it was held, once', () => {
    const held = new HeldCompletions();
    const { session, calls } = recorder();
    const a = conn(1);
    const b = conn(2);
    held.pushDirect(a, 10, 0, 0x100000001);
    held.pushApplied(b, applied(20, 0x100000002));
    held.pushThunk(a, () => calls.push('thunk 1'));
    held.pushDirect(b, 21, -101, 0x100000003);
    expect(held.length).toBe(4);
    held.drain(session);
    expect(calls).toEqual([
      `direct 1 xid=10 err=0 zxid=${0x100000001}`,
      `applied 2 xid=20 zxid=${0x100000002}`,
      'thunk 1',
      `direct 2 xid=21 err=-101 zxid=${0x100000003}`,
    ]);
    expect(held.length).toBe(0);
    held.drain(session);
    expect(calls).toHaveLength(4);
  });

  it('drops the completions of a connection that closed while they were held', () => {
    const held = new HeldCompletions();
    const { session, calls } = recorder();
    const gone = conn(1);
    const open = conn(2);
    held.pushDirect(gone, 1, 0, 5);
    held.pushApplied(gone, applied(2, 5));
    held.pushThunk(gone, () => calls.push('thunk of a closed connection'));
    held.pushDirect(open, 3, 0, 5);
    gone.state = 'closed';
    held.drain(session);
    expect(calls).toEqual(['direct 2 xid=3 err=0 zxid=5']);
  });

  it('keeps order and values past its initial rows (a batch of thousands of writes)', () => {
    const held = new HeldCompletions();
    const { session, calls } = recorder();
    const conns = [conn(1), conn(2), conn(3)];
    const rows = 5000;
    for (let i = 0; i < rows; i++) {
      const c = conns[i % 3];
      if (i % 7 === 0) held.pushApplied(c, applied(i, 2 ** 40 + i));
      else held.pushDirect(c, i, -(i % 5), 2 ** 40 + i);
    }
    held.drain(session);
    expect(calls).toHaveLength(rows);
    for (let i = 0; i < rows; i++) {
      const c = (i % 3) + 1;
      expect(calls[i]).toBe(i % 7 === 0 ? `applied ${c} xid=${i} zxid=${2 ** 40 + i}` : `direct ${c} xid=${i} err=${-(i % 5)} zxid=${2 ** 40 + i}`);
    }
  });

  it('clear() drops every held completion unanswered (a RELOAD)', () => {
    const held = new HeldCompletions();
    const { session, calls } = recorder();
    held.pushDirect(conn(1), 1, 0, 1);
    held.pushThunk(conn(1), () => calls.push('thunk'));
    held.clear();
    held.drain(session);
    expect(calls).toEqual([]);
  });

  it('refuses a completion held while it drains (the batch must be closed first)', () => {
    const held = new HeldCompletions();
    const { session } = recorder();
    const c = conn(1);
    held.pushThunk(c, () => held.pushDirect(c, 2, 0, 1));
    expect(() => held.drain(session)).toThrow(/pushed while draining/);
  });
});
