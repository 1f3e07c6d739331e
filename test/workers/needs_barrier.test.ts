// needsBarrier decides whether a forwarded write may share a published root with an earlier
// unanswered request of its connection: only when nothing served from the tree (a read, a ping,
// a session op) waits between the two. A wrong "false" lets a read see the session's later
// write (and its reply zxid run ahead); a wrong "true" only costs throughput.

import { describe, expect, it } from 'vitest';
import type { Pending } from '../../src/workers/shard/conn.js';
import { needsBarrier } from '../../src/workers/shard/shard_session.js';

const header = { xid: 0, type: 0 };
const write = (): Pending => ({ header, request: null, payload: null, forwarded: true, received_ms: 0 });
const read = (): Pending => ({ header, request: null, payload: null, forwarded: false, received_ms: 0 });

describe('needsBarrier (the write is the last request of the FIFO)', () => {
  it('a write alone, or behind reads only, needs none: nothing earlier is unanswered in the commit stream', () => {
    expect(needsBarrier([write()])).toBe(false);
    expect(needsBarrier([read(), read(), write()])).toBe(false);
  });

  it('back-to-back writes need none', () => {
    expect(needsBarrier([write(), write()])).toBe(false);
    expect(needsBarrier([read(), write(), write(), write()])).toBe(false);
  });

  it('a read between an unanswered write and this one needs a barrier', () => {
    expect(needsBarrier([write(), read(), write()])).toBe(true);
    expect(needsBarrier([write(), read(), read(), write()])).toBe(true);
  });

  it('only the nearest earlier forwarded request counts', () => {
    expect(needsBarrier([write(), read(), write(), write()])).toBe(false);
    expect(needsBarrier([write(), write(), read(), write()])).toBe(true);
  });
});
