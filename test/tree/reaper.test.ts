import { describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { prepReap, reapCandidates } from '../../src/tree/reaper.js';
import { enc, Harness, open } from './harness.js';

function container(h: Harness, path: string) {
  return h.write(Op.createContainer, { path, data: null, acl: open(), flags: 4 });
}

function ttlNode(h: Harness, path: string, ttl: number) {
  return h.write(Op.createTTL, { path, data: null, acl: open(), flags: 5, ttl });
}

describe('reaper: containers', () => {
  it('reaps an empty container only after it had a child', () => {
    const h = new Harness();
    container(h, '/c');
    expect(reapCandidates(h.tree, h.time_ms + 1e9)).toEqual([]);
    h.create('/c/child');
    expect(reapCandidates(h.tree, h.time_ms)).toEqual([]);
    h.write(Op.delete, { path: '/c/child', version: -1 });
    expect(reapCandidates(h.tree, h.time_ms)).toEqual(['/c']);
    const ops = prepReap(h.tree, h.time_ms);
    expect(ops).toEqual([{ kind: 'delete', path: '/c', opcode: Op.deleteContainer }]);
    const { result } = h.commit(ops[0]);
    expect(result.err).toBe(0);
    expect(h.tree.has('/c')).toBe(false);
    expect(h.tree.containers().size).toBe(0);
  });

  it('reaps never-used containers when never_used_ms is set', () => {
    const h = new Harness();
    container(h, '/c');
    const created = h.tree.get('/c')!.mtime;
    expect(reapCandidates(h.tree, created + 100, { never_used_ms: 100 })).toEqual([]);
    expect(reapCandidates(h.tree, created + 101, { never_used_ms: 100 })).toEqual(['/c']);
  });
});

describe('reaper: TTL nodes', () => {
  it('reaps a childless TTL node not modified for longer than its TTL', () => {
    const h = new Harness();
    ttlNode(h, '/t', 1000);
    const mtime = h.tree.get('/t')!.mtime;
    expect(reapCandidates(h.tree, mtime + 1000)).toEqual([]);
    expect(reapCandidates(h.tree, mtime + 1001)).toEqual(['/t']);
    h.write(Op.setData, { path: '/t', data: enc('touch'), version: -1 });
    expect(reapCandidates(h.tree, mtime + 1001)).toEqual([]);
    h.create('/t/kid');
    expect(reapCandidates(h.tree, h.time_ms + 10_000)).toEqual([]);
  });

  it('sorts and limits candidates', () => {
    const h = new Harness();
    ttlNode(h, '/t2', 1);
    ttlNode(h, '/t1', 1);
    expect(reapCandidates(h.tree, h.time_ms + 10)).toEqual(['/t1', '/t2']);
    expect(reapCandidates(h.tree, h.time_ms + 10, { limit: 1 })).toEqual(['/t1']);
  });
});

describe('deleteContainer prep', () => {
  it('refuses non-empty, ephemeral and persistent nodes, and system paths', () => {
    const h = new Harness();
    container(h, '/c');
    h.create('/c/x');
    h.create('/p');
    h.create('/e', '', 1, { session_id: 9n });
    const err = (path: string) => {
      const { op } = h.write(Op.deleteContainer, { path });
      return op.kind === 'error' ? op.err : 0;
    };
    expect(err('/c')).toBe(Err.NOTEMPTY);
    expect(err('/e')).toBe(Err.BADVERSION);
    expect(err('/p')).toBe(Err.BADVERSION);
    expect(err('/nope')).toBe(Err.NONODE);
    expect(err('/zookeeper')).toBe(Err.BADARGUMENTS);
    expect(h.tree.has('/p')).toBe(true);
  });
});
