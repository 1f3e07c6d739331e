// Local sessions of a replica in read-only mode (src/session/read_only_sessions.ts): created
// without a txn, resumable on this replica with their password, expired like any session, bounded.

import { describe, expect, it } from 'vitest';
import { ReadOnlySessions } from '../../src/session/read_only_sessions.js';

const SECRET = new Uint8Array(32).fill(7);
const A = { shard: 0, conn_id: 1 };
const B = { shard: 1, conn_id: 2 };

function sessions(opts: { sessions_max?: number; taken?: (id: bigint) => boolean } = {}): ReadOnlySessions {
  return new ReadOnlySessions(
    { server_id: 3, tick_ms: 100, secret: SECRET, sessions_max: opts.sessions_max ?? 10, taken: opts.taken ?? (() => false) },
    1_000_000,
  );
}

describe('ReadOnlySessions', () => {
  it('creates sessions with distinct ids carrying the server id, skipping ids in use', () => {
    const first = sessions().create(A, 5000, 0)!.session_id;
    const ro = sessions({ taken: (id) => id === first });
    const s1 = ro.create(A, 5000, 0)!;
    const s2 = ro.create(B, 5000, 0)!;
    expect(s1.session_id).not.toBe(first);
    expect(s2.session_id).not.toBe(s1.session_id);
    expect(Number(BigInt.asUintN(64, s1.session_id) >> 56n)).toBe(3);
    expect(s1.passwd).toHaveLength(16);
    expect(ro.has(s1.session_id) && ro.has(s2.session_id)).toBe(true);
    expect(ro.connections()).toEqual([A, B]);
  });

  it('refuses a create past sessions_max', () => {
    const ro = sessions({ sessions_max: 2 });
    expect(ro.create(A, 5000, 0)).not.toBeNull();
    expect(ro.create(B, 5000, 0)).not.toBeNull();
    expect(ro.create({ shard: 0, conn_id: 9 }, 5000, 0)).toBeNull();
    expect(ro.size).toBe(2);
  });

  it('a reattach with the right password moves the session and names the connection to close', () => {
    const ro = sessions();
    const s = ro.create(A, 5000, 0)!;
    const r = ro.reattach(B, s.session_id, s.passwd, 4000, 10);
    expect(r.ok).toBe(true);
    expect(r.previous).toEqual(A);
    expect(ro.connections()).toEqual([B]);
  });

  it('a wrong password or an unknown id is refused (the old connection is still closed)', () => {
    const ro = sessions();
    const s = ro.create(A, 5000, 0)!;
    const wrong = ro.reattach(B, s.session_id, new Uint8Array(16), 5000, 10);
    expect(wrong).toEqual({ ok: false, previous: A });
    expect(ro.reattach(B, 12345n, s.passwd, 5000, 10)).toEqual({ ok: false, previous: null });
  });

  it('expires a session its client stopped touching, and returns the connection still holding it', () => {
    const ro = sessions();
    const kept = ro.create(A, 1000, 0)!;
    const dropped = ro.create(B, 1000, 0)!;
    ro.touch([kept.session_id], 900);
    expect(ro.expire(1100)).toEqual([B]);
    expect(ro.has(dropped.session_id)).toBe(false);
    expect(ro.has(kept.session_id)).toBe(true);
    ro.connGone(A, kept.session_id);
    expect(ro.connections()).toEqual([]);
    expect(ro.expire(5000)).toEqual([]); // expired without a connection to close
    expect(ro.size).toBe(0);
  });

  it('a closed connection leaves its session resumable until it expires', () => {
    const ro = sessions();
    const s = ro.create(A, 1000, 0)!;
    ro.connGone(A, s.session_id);
    expect(ro.reattach(B, s.session_id, s.passwd, 1000, 500)).toEqual({ ok: true, passwd: s.passwd, previous: null });
  });
});
