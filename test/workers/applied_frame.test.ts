// The APPLIED body a shard reads: its triggers in order, then the reply body; a shard without
// watches skips the triggers unread and still finds the same reply body behind them.

import { describe, expect, it } from 'vitest';
import { EventType } from '../../src/protocol/constants.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ApplyResult } from '../../src/tree/data_tree.js';
import { type AppliedTrigger, encodeApplied, readApplied } from '../../src/workers/applied_frame.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const DIGEST = [{ perms: 1, id: { scheme: 'digest', id: 'u:x' } }];

function applied(): Uint8Array {
  const stat = { czxid: 1, mzxid: 7, ctime: 2, mtime: 3, version: 4, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0, pzxid: 1 };
  const result: ApplyResult = {
    err: 0,
    path: '/a/é',
    stat,
    events: [
      { type: EventType.NodeDataChanged, path: '/a/é', acl: DIGEST },
      { type: EventType.NodeChildrenChanged, path: '/a', acl: OPEN },
    ],
  };
  const w = new JuteWriter();
  encodeApplied(w, Op.setData, result);
  return w.toBytes();
}

describe('readApplied', () => {
  it('visits the triggers in order, then returns the reply body', () => {
    const bytes = applied();
    const seen: { type: number; path: string; restricted: boolean }[] = [];
    const body = readApplied(bytes, 0, bytes.length, (t: AppliedTrigger) => seen.push({ type: t.type, path: t.path, restricted: t.acl !== null }), true);
    expect(seen).toEqual([
      { type: EventType.NodeDataChanged, path: '/a/é', restricted: true },
      { type: EventType.NodeChildrenChanged, path: '/a', restricted: false },
    ]);
    expect(body!.length).toBeGreaterThan(0);
  });

  it('without a trigger callback skips the triggers and returns the same reply body; with nothing to keep, reads nothing', () => {
    const bytes = applied();
    const with_triggers = readApplied(bytes, 0, bytes.length, () => {}, true);
    expect(readApplied(bytes, 0, bytes.length, null, true)).toEqual(with_triggers);
    expect(readApplied(bytes, 0, bytes.length, null, false)).toBe(null);
    // A truncated frame is still refused when the triggers are skipped.
    expect(() => readApplied(bytes, 0, 12, null, true)).toThrow();
  });
});
