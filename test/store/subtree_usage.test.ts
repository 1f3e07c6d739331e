// NodeView.subtreeUsage (a quota's recount): one scan over the key ranges of a node's descendants
// must give what a walk of getChildren gives, node by node, for every node of trees whose names
// sort next to each other across the ranges ("a", "a!", "a0", "a/" cannot exist, "ab"), long
// names (overflow keys), null and empty data, on small pages (deep B+trees).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { joinPath } from '../../src/tree/path_rules.js';
import { bounded } from '../support/fc_bounds.js';

const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const NAMES = ['a', 'a!', 'a0', 'ab', 'b', 'é', 'L'.repeat(200), 'a '];

/** Count and bytes by walking children(), one lookup per node. */
function walked(w: TreeWriter, path: string): { count: number; bytes: number } {
  const view = w.view;
  let count = 0;
  let bytes = 0;
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (!view.findPath(p)) continue;
    count++;
    bytes += Math.max(0, view.dataLength());
    for (const name of view.children(p) ?? []) stack.push(joinPath(p, name));
  }
  return { count, bytes };
}

const step = fc.record({ parent: fc.nat(), name: fc.nat(NAMES.length - 1), data: fc.oneof(fc.constant(null), fc.nat(300)) });

describe('NodeView.subtreeUsage', () => {
  it('equals a walk of getChildren at every node', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 250 }), (steps) => {
        const w = TreeWriter.create(SMALL);
        w.begin();
        createSystemNodes(w);
        const paths = ['/'];
        let zxid = 0;
        for (const s of steps) {
          const path = joinPath(paths[s.parent % paths.length], NAMES[s.name]);
          if (w.view.findPath(path)) continue;
          w.create(path, s.data === null ? null : new Uint8Array(s.data), ACL, 0n, ++zxid, 1, 1);
          paths.push(path);
        }
        w.commit(zxid);
        for (const path of [...paths, '/zookeeper', '/zookeeper/quota']) expect(w.view.subtreeUsage(path), path).toEqual(walked(w, path));
        expect(w.view.subtreeUsage('/no/such')).toBeNull();
      }),
      bounded({ numRuns: 40 }),
    );
  });
});
