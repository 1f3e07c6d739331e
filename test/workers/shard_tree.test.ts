// A shard answers getData and exists by writing the body straight from the shared tree into the
// reply. Those bytes must be exactly what encoding the heap tree's records gives, for every kind
// of node: null, empty and large data, ephemeral, container and TTL owners, children.

import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeReply, encodeReplyWrittenBy } from '../../src/protocol/messages.js';
import { statOf } from '../../src/tree/znode.js';
import { arenaReadTree } from '../support/read_trees.js';
import { enc, Harness, open } from '../tree/harness.js';

function bytesOf(f: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter();
  f(w);
  return w.view_bytes().slice();
}

describe('getData / exists replies written from the shared tree', () => {
  it('are byte for byte the replies encoded from the heap tree', () => {
    const h = new Harness();
    h.create('/a', 'data');
    h.create('/a/x', null);
    h.create('/a/y', '');
    h.create('/big', 'v'.repeat(70_000));
    h.create('/e', 'eph', 1, { session_id: 0x1234n });
    h.create('/c', 'container', 4);
    h.create('/c/kid', 'k');
    expect(h.write(21, { path: '/t', data: enc('ttl'), acl: open(), flags: 5, ttl: 10_000 }).result.err).toBe(0);
    h.create('/ünï', 'ü');
    const shard = arenaReadTree(h.tree);
    const header = { xid: 7, zxid: 99, err: 0 };
    const paths = ['/', '/zookeeper', '/a', '/a/x', '/a/y', '/big', '/e', '/c', '/c/kid', '/t', '/ünï'];
    for (const path of paths) {
      const node = h.tree.get(path)!;
      expect(node, path).toBeDefined();
      expect(shard.node(path), path).toBeDefined();
      const direct = bytesOf((w) => encodeReplyWrittenBy(header, shard.writeGetData, w));
      const heap = bytesOf((w) => encodeReply(header, 'GetDataResponse', { data: node.data, stat: statOf(node) }, w));
      expect(direct, `getData ${path}`).toEqual(heap);
      shard.node(path);
      const direct_exists = bytesOf((w) => encodeReplyWrittenBy(header, shard.writeExists, w));
      const heap_exists = bytesOf((w) => encodeReply(header, 'ExistsResponse', { stat: statOf(node) }, w));
      expect(direct_exists, `exists ${path}`).toEqual(heap_exists);
    }
  });

  it('an error reply has the header alone (the body writer is not called)', () => {
    const h = new Harness();
    const shard = arenaReadTree(h.tree);
    const called: string[] = [];
    const bytes = bytesOf((w) => encodeReplyWrittenBy({ xid: 1, zxid: 2, err: -101 }, () => called.push('body'), w));
    expect(called).toEqual([]);
    expect(bytes).toEqual(bytesOf((w) => encodeReply({ xid: 1, zxid: 2, err: -101 }, null, null, w)));
    expect(shard.node('/nope')).toBeUndefined();
  });
});
