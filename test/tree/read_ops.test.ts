import { describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL, GetACLResponse, Id } from '../../src/protocol/types.js';
import { digestId } from '../../src/tree/acl.js';
import type { DataTree } from '../../src/tree/data_tree.js';
import { serveRead, type ReadContext, type ReadTree } from '../../src/tree/read_ops.js';
import { dec, Harness } from './harness.js';
import { arenaReadTree, heapReadTree } from '../support/read_trees.js';

const S1 = 0x1111n;
const anyone: ReadContext = { auth: [{ scheme: 'ip', id: '127.0.0.1' }], is_super: false, session_id: S1 };
const BOB: Id = { scheme: 'digest', id: digestId('bob:secret') };
const bob: ReadContext = { ...anyone, auth: [...anyone.auth, BOB] };
const world = (perms: number): ACL[] => [{ perms, id: { scheme: 'world', id: 'anyone' } }];

function setup(): Harness {
  const h = new Harness();
  h.create('/a', 'data');
  h.create('/a/x');
  h.create('/a/y');
  h.create('/a/y/z');
  h.create('/secret', 'hidden', 0, {}, [{ perms: Perms.ALL, id: BOB }, ...world(Perms.CREATE)]);
  h.create('/e', '', 1, { session_id: S1 });
  return h;
}

// Every read is checked against the heap tree and against the shared arena tree loaded from it.
const TREES: [string, (tree: DataTree) => ReadTree][] = [
  ['heap tree', heapReadTree],
  ['shared arena tree', arenaReadTree],
];

describe.each(TREES)('%s', (_name, t) => {
  describe('exists', () => {
    it('returns the stat and a data watch for a readable node', () => {
      const h = setup();
      const r = serveRead(t(h.tree), anyone, Op.exists, { path: '/a', watch: true });
      expect(r.err).toBe(0);
      expect(r.response).toEqual({ stat: h.tree.stat('/a') });
      expect(r.watches).toEqual([{ path: '/a', kind: 'data' }]);
    });

    it('answers NONODE for a missing node and still registers the (exist) watch', () => {
      const h = setup();
      expect(serveRead(t(h.tree), anyone, Op.exists, { path: '/nope', watch: true })).toEqual({
        err: Err.NONODE, response: null, watches: [{ path: '/nope', kind: 'exist' }],
      });
      expect(serveRead(t(h.tree), anyone, Op.exists, { path: '/nope', watch: false }).watches).toEqual([]);
    });

    it('checks READ since 3.9.2 and registers nothing when denied; NUL is BADARGUMENTS', () => {
      const h = setup();
      expect(serveRead(t(h.tree), anyone, Op.exists, { path: '/secret', watch: true })).toEqual({ err: Err.NOAUTH, response: null, watches: [] });
      expect(serveRead(t(h.tree), bob, Op.exists, { path: '/secret', watch: false }).err).toBe(0);
      expect(serveRead(t(h.tree), anyone, Op.exists, { path: '/a\u0000', watch: true }).err).toBe(Err.BADARGUMENTS);
    });
  });

  describe('getData / getChildren', () => {
    it('getData returns data and stat, registers a data watch; no watch on NONODE or NOAUTH', () => {
      const h = setup();
      const r = serveRead(t(h.tree), anyone, Op.getData, { path: '/a', watch: true });
      expect(r.err).toBe(0);
      expect(dec((r.response as { data: Uint8Array }).data)).toBe('data');
      expect(r.watches).toEqual([{ path: '/a', kind: 'data' }]);
      expect(serveRead(t(h.tree), anyone, Op.getData, { path: '/nope', watch: true })).toEqual({ err: Err.NONODE, response: null, watches: [] });
      expect(serveRead(t(h.tree), anyone, Op.getData, { path: '/secret', watch: true })).toEqual({ err: Err.NOAUTH, response: null, watches: [] });
      expect(dec((serveRead(t(h.tree), { ...anyone, is_super: true }, Op.getData, { path: '/secret', watch: false }).response as { data: Uint8Array }).data)).toBe('hidden');
    });

    it('getChildren returns sorted names and a child watch; getChildren2 adds the stat', () => {
      const h = setup();
      expect(serveRead(t(h.tree), anyone, Op.getChildren, { path: '/a', watch: true })).toEqual({
        err: 0, response: { children: ['x', 'y'] }, watches: [{ path: '/a', kind: 'child' }],
      });
      expect(serveRead(t(h.tree), anyone, Op.getChildren2, { path: '/a', watch: false })).toEqual({
        err: 0, response: { children: ['x', 'y'], stat: h.tree.stat('/a') }, watches: [],
      });
      expect(serveRead(t(h.tree), anyone, Op.getChildren, { path: '/secret', watch: true }).err).toBe(Err.NOAUTH);
      expect(serveRead(t(h.tree), anyone, Op.getChildren2, { path: 'rel', watch: true }).err).toBe(Err.NONODE);
    });
  });

  describe('getACL', () => {
    it('needs READ or ADMIN and redacts digest ids without ADMIN', () => {
      const h = setup();
      h.create('/r', '', 0, {}, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.ADMIN, id: BOB }]);
      const plain = serveRead(t(h.tree), anyone, Op.getACL, { path: '/r' });
      expect((plain.response as GetACLResponse).acl).toEqual([
        { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
        { perms: Perms.ADMIN, id: { scheme: 'digest', id: 'bob:x' } },
      ]);
      const admin = serveRead(t(h.tree), bob, Op.getACL, { path: '/r' });
      expect((admin.response as GetACLResponse).acl[1].id).toEqual(BOB);
      expect((admin.response as GetACLResponse).stat).toEqual(h.tree.stat('/r'));
      expect(serveRead(t(h.tree), anyone, Op.getACL, { path: '/secret' }).err).toBe(Err.NOAUTH);
      expect(serveRead(t(h.tree), anyone, Op.getACL, { path: '/nope' }).err).toBe(Err.NONODE);
    });
  });

  describe('getAllChildrenNumber / getEphemerals', () => {
    it('counts descendants after checking the node and READ', () => {
      const h = setup();
      expect(serveRead(t(h.tree), anyone, Op.getAllChildrenNumber, { path: '/a' }).response).toEqual({ totalNumber: 3 });
      expect(serveRead(t(h.tree), anyone, Op.getAllChildrenNumber, { path: '/nope' }).err).toBe(Err.NONODE);
      expect(serveRead(t(h.tree), anyone, Op.getAllChildrenNumber, { path: '/secret' }).err).toBe(Err.NOAUTH);
    });

    it("lists only the calling session's ephemerals", () => {
      const h = setup();
      expect(serveRead(t(h.tree), anyone, Op.getEphemerals, { prefixPath: '/' }).response).toEqual({ ephemerals: ['/e'] });
      expect(serveRead(t(h.tree), { ...anyone, session_id: 7n }, Op.getEphemerals, { prefixPath: '' }).response).toEqual({ ephemerals: [] });
    });
  });

  describe('multiRead', () => {
    it('serves each op on its own with errors inline and collects watches', () => {
      const h = setup();
      const r = serveRead(t(h.tree), anyone, Op.multiRead, [
        { type: 4, request: { path: '/a', watch: true } },
        { type: 8, request: { path: '/nope', watch: true } },
        { type: 8, request: { path: '/a', watch: true } },
        { type: 4, request: { path: '/secret', watch: true } },
      ]);
      expect(r.err).toBe(0);
      const results = r.response as { type: number; response: unknown }[];
      expect(results.map((x) => x.type)).toEqual([4, -1, 8, -1]);
      expect(results[1].response).toEqual({ err: Err.NONODE });
      expect(results[2].response).toEqual({ children: ['x', 'y'] });
      expect(results[3].response).toEqual({ err: Err.NOAUTH });
      expect(r.watches).toEqual([{ path: '/a', kind: 'data' }, { path: '/a', kind: 'child' }]);
    });

    it('fails as a whole when it contains a write op', () => {
      const h = setup();
      const r = serveRead(t(h.tree), anyone, Op.multiRead, [{ type: 2, request: { path: '/a/x', version: -1 } }]);
      expect(r.err).toBe(Err.MARSHALLINGERROR);
      expect(h.tree.has('/a/x')).toBe(true);
    });
  });
});
