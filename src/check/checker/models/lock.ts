// A mutual-exclusion lock with fencing tokens (the lock recipe: the token is the holder's lock
// node czxid). At most one holder at a time, and every acquisition's token is larger than every
// earlier one.
//
// Ops (input.owner = the session that holds or wants the lock):
//   acquire {owner} -> ok {token}
//   release {owner} -> ok {} | fail NONODE (the lock node was already gone: the session lost it)
//   end     {owner} -> ok {}  (the owner's session ended: its lock node went with it)
// An acquire with an unknown outcome takes the lock if it is free at that point (its token is
// unknown, so the token order is not advanced); a release or end by a non-holder changes nothing.

import type { OpRecord } from '../history.js';
import type { Model } from '../model.js';
import { numField } from './register.js';

export interface LockState {
  readonly holder: number | null;
  /** Highest fencing token granted so far (-1: none). */
  readonly token: number;
}

function stepAcquire(s: LockState, op: OpRecord, owner: number): LockState | null {
  if (op.outcome === 'unknown') return s.holder === null ? { holder: owner, token: s.token } : s;
  if (op.outcome !== 'ok' || s.holder !== null) return null;
  const token = numField(op.output, 'token');
  if (token === null) return { holder: owner, token: s.token };
  return token > s.token ? { holder: owner, token } : null;
}

function stepRelease(s: LockState, op: OpRecord, owner: number): LockState | null {
  const held = s.holder === owner;
  if (op.outcome === 'fail') return op.error !== 'NONODE' || !held ? s : null;
  if (op.outcome === 'ok' && op.f === 'release') return held ? { holder: null, token: s.token } : null;
  return held ? { holder: null, token: s.token } : s;
}

export function lockModel(): Model<LockState> {
  return {
    name: 'lock',
    init: () => ({ holder: null, token: -1 }),
    step(s, op) {
      const owner = numField(op.input, 'owner');
      if (owner === null) return null;
      if (op.f === 'acquire') return stepAcquire(s, op, owner);
      if (op.f === 'release' || op.f === 'end') return stepRelease(s, op, owner);
      return null;
    },
    hash: (s) => `${s.holder ?? '-'}:${s.token}`,
    describe: (s) => (s.holder === null ? `free (last token ${s.token})` : `held by session ${s.holder} (last token ${s.token})`),
  };
}
