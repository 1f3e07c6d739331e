// The scripted protocol session run by differential.test.ts against Apache ZooKeeper 3.8 and
// against waitfree. Every step's reply and every notification goes into the transcript; `expect`
// records what the reference server is known to answer (checked on every run, so the script's
// claims are proven on Apache ZooKeeper).
//
// Clients: c1 watches / reads, c2 writes, c3 unauthenticated, c4 digest alice, c5 super, others
// short-lived. Paths are unique per section so sections do not interact.

import { createHash } from 'node:crypto';
import { Xid } from '../../src/protocol/constants.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/types.js';
import { ScriptAborted, type Transcript } from '../support/transcript.js';

export const SUPER_PASSWORD = 'superpw';

export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Server options both servers run the script with. */
export const SCRIPT_SERVER_OPTIONS = {
  tickTime_ms: 2000,
  superDigest: digestId('super', SUPER_PASSWORD),
  extendedTypesEnabled: true,
  containerCheckInterval_ms: 1000,
};

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const create = (path: string, data: string | null = 'x', flags = 0, acl: ACL[] = OPEN) => ({
  path,
  data: data === null ? null : bytes(data),
  acl,
  flags,
});

const SECTIONS: ReadonlyArray<(t: Transcript) => Promise<void>> = [
  basics,
  createModes,
  aclOps,
  multiOps,
  watches,
  persistentWatches,
  watchManagement,
  setWatches,
  auth,
  sessionResume,
  edgeProbes,
  misc,
  reaping,
];

/** Long-lived clients that later sections rely on. */
const MAIN_CLIENTS = ['c1', 'c2', 'c3'];

export async function runScript(t: Transcript): Promise<void> {
  await sessions(t);
  for (const section of SECTIONS) {
    try {
      await section(t);
    } catch (e) {
      if (!(e instanceof ScriptAborted)) throw e;
      // Keep going so one broken step does not hide every later difference.
      t.note('aborted', e.message);
      await t.revive(MAIN_CLIENTS);
    }
  }
  await t.closeAll();
}

async function sessions(t: Transcript): Promise<void> {
  t.begin('sessions');
  // Negotiated timeouts are clamped to [2, 20] x tickTime (2000 ms): 4000..40000.
  await t.connect('c1', { timeout_ms: 1000 });
  await t.connect('c2', { timeout_ms: 100_000 });
  await t.connect('c3', { timeout_ms: 30_000 });
  await t.special('c1', Xid.PING, Op.ping, null, { expect: 'OK', label: 'ping' });
}

async function basics(t: Transcript): Promise<void> {
  t.begin('basics');
  await t.op('c1', Op.create, create('/d', 'data-d'), { expect: 'OK' });
  await t.op('c1', Op.create, create('/d'), { expect: 'NODEEXISTS' });
  await t.op('c1', Op.create, create('/nope/x'), { expect: 'NONODE' });
  await t.op('c1', Op.create2, create('/d/a', 'a'), { expect: 'OK' });
  await t.op('c1', Op.exists, { path: '/d', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.exists, { path: '/nonex', watch: false }, { expect: 'NONODE' });
  await t.op('c1', Op.getData, { path: '/d', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getData, { path: '/nonex', watch: false }, { expect: 'NONODE' });
  await t.op('c1', Op.setData, { path: '/d', data: bytes('v1'), version: 0 }, { expect: 'OK' });
  await t.op('c1', Op.setData, { path: '/d', data: bytes('v2'), version: 0 }, { expect: 'BADVERSION' });
  await t.op('c1', Op.setData, { path: '/d', data: null, version: -1 }, { expect: 'OK', label: 'setData null data' });
  await t.op('c1', Op.getData, { path: '/d', watch: false }, { expect: 'OK', label: 'getData null data' });
  await t.op('c1', Op.setData, { path: '/d', data: bytes('v3'), version: -1 }, { expect: 'OK' });
  await t.op('c1', Op.setData, { path: '/nonex', data: bytes('x'), version: -1 }, { expect: 'NONODE' });
  await t.op('c1', Op.create, create('/d/b', ''), { expect: 'OK', label: 'create empty data' });
  await t.op('c1', Op.getChildren, { path: '/d', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getChildren2, { path: '/d', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getChildren, { path: '/nonex', watch: false }, { expect: 'NONODE' });
  await t.op('c1', Op.getChildren2, { path: '/nonex', watch: false }, { expect: 'NONODE' });
  // (A standalone `check` (op 13) is not in the script: Apache ZooKeeper 3.8 never answers it,
  // and the session's later requests stall behind it.)
  await t.op('c1', Op.delete, { path: '/d', version: -1 }, { expect: 'NOTEMPTY' });
  await t.op('c1', Op.delete, { path: '/d/a', version: 5 }, { expect: 'BADVERSION' });
  await t.op('c1', Op.delete, { path: '/d/a', version: 0 }, { expect: 'OK' });
  await t.op('c1', Op.delete, { path: '/nonex', version: -1 }, { expect: 'NONODE' });
  // Child delete moves the parent's pzxid; cversion/numChildren show what changed.
  await t.op('c1', Op.exists, { path: '/d', watch: false }, { expect: 'OK', label: 'stat after child delete' });
  await t.op('c1', Op.sync, { path: '/d' }, { expect: 'OK' });
  await t.op('c1', Op.sync, { path: '/' }, { expect: 'OK' });
  await t.op('c1', Op.getData, { path: '/', watch: false }, { expect: 'OK', label: 'getData root' });
  await t.op('c1', Op.getChildren, { path: '/zookeeper', watch: false }, { expect: 'OK', label: 'ls /zookeeper' });
  await t.op('c1', Op.getData, { path: '/zookeeper', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getData, { path: '/zookeeper/quota', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getData, { path: '/zookeeper/config', watch: false }, { expect: 'OK' });
  await t.op('c1', Op.getACL, { path: '/zookeeper/config' }, { expect: 'OK' });
  await t.op('c1', Op.getAllChildrenNumber, { path: '/' }, { expect: 'OK' });
  await t.op('c1', Op.getAllChildrenNumber, { path: '/d' }, { expect: 'OK' });
  await t.op('c1', Op.getAllChildrenNumber, { path: '/nonex' }, { expect: 'NONODE' });
  await t.op('c1', Op.whoAmI, null, { expect: 'OK' });
  // Bad paths.
  await t.op('c1', Op.create, create('noslash'), { expect: 'BADARGUMENTS' });
  // ZooKeeper looks up the parent (text before the last '/') before validating the whole path:
  // a bad path under a missing parent answers NONODE, under an existing one BADARGUMENTS.
  await t.op('c1', Op.create, create('/trailing/'), { expect: 'NONODE' });
  await t.op('c1', Op.create, create('/a//b'), { expect: 'NONODE' });
  await t.op('c1', Op.create, create('/a/./b'), { expect: 'NONODE' });
  await t.op('c1', Op.create, create('/d/'), { expect: 'BADARGUMENTS' });
  await t.op('c1', Op.create, create('/d/.'), { expect: 'BADARGUMENTS' });
  await t.op('c1', Op.create, create('/d/..'), { expect: 'BADARGUMENTS' });
  await t.op('c1', Op.create, create('/d/bad\u0001char'), { expect: 'BADARGUMENTS', label: 'create control character' });
  await t.op('c1', Op.create, create('/d/ok\u00e9'), { expect: 'OK', label: 'create non-ASCII name' });
  await t.op('c1', Op.delete, { path: '/d/ok\u00e9', version: -1 }, { expect: 'OK', label: 'delete non-ASCII name' });
}

async function createModes(t: Transcript): Promise<void> {
  t.begin('create modes');
  await t.op('c1', Op.create, create('/cm'), { expect: 'OK' });
  // Sequential suffix = parent's cversion before the create, %010d.
  await t.op('c1', Op.create, create('/cm/s-', 'a', 2), { expect: 'OK' });
  await t.op('c1', Op.create2, create('/cm/s-', 'b', 2), { expect: 'OK' });
  await t.op('c1', Op.create, create('/cm/e-', 'c', 3), { expect: 'OK', label: 'create ephemeral sequential' });
  await t.op('c1', Op.delete, { path: '/cm/s-0000000000', version: -1 }, { expect: 'OK' });
  await t.op('c1', Op.create, create('/cm/s-', 'd', 2), { expect: 'OK', label: 'sequence counter not reused' });
  await t.op('c1', Op.create, create('/cm/', 'e', 2), { expect: 'OK', label: 'sequential with trailing slash' });
  await t.op('c1', Op.create2, create('/cm/eph', 'e', 1), { expect: 'OK', label: 'create2 ephemeral' });
  await t.op('c1', Op.create, create('/cm/eph/x'), { expect: 'NOCHILDRENFOREPHEMERALS' });
  await t.op('c1', Op.create, create('/cm/eph/x', 'x', 2), { expect: 'NOCHILDRENFOREPHEMERALS', label: 'sequential child of ephemeral' });
  await t.op('c1', Op.createContainer, create('/cm/cont', 'c', 4), { expect: 'OK' });
  await t.op('c1', Op.createContainer, create('/cm/cont2', 'c', 0), { label: 'createContainer with flags 0' });
  await t.op('c1', Op.create, create('/cm/cont3', 'c', 4), { label: 'create (op 1) with container flags' });
  await t.op('c1', Op.createTTL, { ...create('/cm/ttl', 't', 5), ttl: 3_600_000 }, { expect: 'OK' });
  await t.op('c1', Op.createTTL, { ...create('/cm/ttls-', 't', 6), ttl: 3_600_000 }, { expect: 'OK', label: 'createTTL sequential' });
  await t.op('c1', Op.createTTL, { ...create('/cm/ttl0', 't', 5), ttl: 0 }, { expect: 'BADARGUMENTS', label: 'createTTL ttl 0' });
  await t.op('c1', Op.createTTL, { ...create('/cm/ttlbig', 't', 5), ttl: 0x10000000000 }, { expect: 'BADARGUMENTS', label: 'createTTL ttl too big' });
  await t.op('c1', Op.createTTL, { ...create('/cm/ttlp', 't', 0), ttl: 1000 }, { expect: 'BADARGUMENTS', label: 'createTTL with persistent flags' });
  await t.op('c1', Op.create, create('/cm/ttl-op1', 't', 5), { label: 'create (op 1) with TTL flags' });
  await t.op('c1', Op.create, create('/cm/badflags', 't', 7), { label: 'create with flags 7' });
  await t.op('c1', Op.getChildren2, { path: '/cm', watch: false }, { expect: 'OK' });
  for (const p of ['/cm/cont', '/cm/ttl', '/cm/eph']) {
    await t.op('c1', Op.exists, { path: p, watch: false }, { expect: 'OK', label: `stat ${p}` });
  }
  await t.op('c1', Op.getEphemerals, { prefixPath: '/' }, { expect: 'OK' });
  await t.op('c1', Op.getEphemerals, { prefixPath: '/cm/e' }, { expect: 'OK' });
  await t.op('c2', Op.getEphemerals, { prefixPath: '/' }, { expect: 'OK', label: 'getEphemerals of a session with none' });
}

async function aclOps(t: Transcript): Promise<void> {
  t.begin('acl');
  await t.op('c1', Op.create, create('/acl', 'a'), { expect: 'OK' });
  await t.op('c1', Op.getACL, { path: '/acl' }, { expect: 'OK' });
  await t.op('c1', Op.getACL, { path: '/nonex' }, { expect: 'NONODE' });
  await t.op('c1', Op.setACL, { path: '/acl', acl: OPEN, version: 5 }, { expect: 'BADVERSION' });
  const read_only: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
  await t.op('c1', Op.setACL, { path: '/acl', acl: read_only, version: 0 }, { expect: 'OK' });
  await t.op('c1', Op.getACL, { path: '/acl' }, { expect: 'OK', label: 'getACL after setACL' });
  await t.op('c1', Op.setData, { path: '/acl', data: bytes('no'), version: -1 }, { expect: 'NOAUTH' });
  await t.op('c1', Op.create, create('/acl/child'), { expect: 'NOAUTH', label: 'create without CREATE perm' });
  await t.op('c1', Op.setACL, { path: '/acl', acl: OPEN, version: -1 }, { expect: 'NOAUTH', label: 'setACL without ADMIN' });
  await t.op('c1', Op.setACL, { path: '/nonex', acl: OPEN, version: -1 }, { expect: 'NONODE' });
  await t.op('c1', Op.setACL, { path: '/d', acl: [], version: -1 }, { expect: 'INVALIDACL', label: 'setACL empty' });
  await t.op('c1', Op.create, create('/acl-empty', 'x', 0, []), { expect: 'INVALIDACL', label: 'create empty ACL' });
  await t.op('c1', Op.create, create('/acl-bad', 'x', 0, [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }]), {
    expect: 'INVALIDACL',
    label: 'create malformed digest id',
  });
  await t.op('c1', Op.create, create('/acl-bad', 'x', 0, [{ perms: 31, id: { scheme: 'bogus', id: 'x' } }]), {
    expect: 'INVALIDACL',
    label: 'create unknown ACL scheme',
  });
  await t.op('c1', Op.create, create('/acl-bad', 'x', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]), {
    expect: 'INVALIDACL',
    label: 'create auth ACL unauthenticated',
  });
  await t.op('c1', Op.create, create('/acl-bad', 'x', 0, [{ perms: 31, id: { scheme: 'world', id: 'someone' } }]), {
    label: 'create world ACL with id other than anyone',
  });
  await t.op('c1', Op.create, create('/acl-ip', 'x', 0, [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }]), {
    expect: 'OK',
    label: 'create ip ACL',
  });
  await t.op('c1', Op.getData, { path: '/acl-ip', watch: false }, { expect: 'OK', label: 'read via ip ACL' });
  await t.op('c1', Op.create, create('/acl-ip2', 'x', 0, [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/8' } }]), {
    expect: 'OK',
    label: 'create ip ACL other net',
  });
  await t.op('c1', Op.getData, { path: '/acl-ip2', watch: false }, { expect: 'NOAUTH', label: 'read via foreign ip ACL' });
  await t.op('c1', Op.create, create('/acl-ip3', 'x', 0, [{ perms: 31, id: { scheme: 'ip', id: 'not-an-ip' } }]), {
    expect: 'INVALIDACL',
    label: 'create malformed ip ACL',
  });
  await t.op('c1', Op.create, create('/acl-perm', 'x', 0, [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }]), {
    label: 'create ACL with perms 0',
  });
  await t.op('c1', Op.create, create('/acl-perm2', 'x', 0, [{ perms: 99, id: { scheme: 'world', id: 'anyone' } }]), {
    label: 'create ACL with perms beyond ALL',
  });
}

async function multiOps(t: Transcript): Promise<void> {
  t.begin('multi');
  await t.op(
    'c1',
    Op.multi,
    {
      ops: [
        { type: Op.create, request: create('/m', 'm') },
        { type: Op.create, request: create('/m/c', 'c') },
        { type: Op.create2, request: create('/m/c2', 'c2') },
        { type: Op.create, request: create('/m/s-', 's', 2) },
        { type: Op.setData, request: { path: '/m', data: bytes('m2'), version: 0 } },
        { type: Op.check, request: { path: '/m', version: 1 } },
        { type: Op.delete, request: { path: '/m/c', version: -1 } },
      ],
    },
    { expect: 'OK', label: 'multi success' },
  );
  await t.op('c1', Op.getChildren2, { path: '/m', watch: false }, { expect: 'OK', label: 'after multi success' });
  await t.op(
    'c1',
    Op.multi,
    {
      ops: [
        { type: Op.create, request: create('/m2', 'x') },
        { type: Op.create, request: create('/m', 'dup') },
        { type: Op.setData, request: { path: '/m', data: bytes('zz'), version: -1 } },
      ],
    },
    { expect: 'OK', label: 'multi NODEEXISTS at op 2' },
  );
  await t.op(
    'c1',
    Op.multi,
    {
      ops: [
        { type: Op.check, request: { path: '/m', version: 1 } },
        { type: Op.setData, request: { path: '/m', data: bytes('zz'), version: -1 } },
        { type: Op.delete, request: { path: '/m/none', version: -1 } },
      ],
    },
    { expect: 'OK', label: 'multi NONODE at op 3' },
  );
  await t.op(
    'c1',
    Op.multi,
    { ops: [{ type: Op.check, request: { path: '/m', version: 7 } }] },
    { expect: 'OK', label: 'multi BADVERSION check' },
  );
  await t.op(
    'c1',
    Op.multi,
    {
      ops: [
        { type: Op.delete, request: { path: '/m/c2', version: -1 } },
        { type: Op.create, request: create('/m/c2', 'again') },
      ],
    },
    { expect: 'OK', label: 'multi delete then recreate' },
  );
  await t.op(
    'c1',
    Op.multi,
    {
      ops: [
        { type: Op.createContainer, request: create('/m/cont', 'c', 4) },
        { type: Op.createTTL, request: { ...create('/m/ttl', 't', 5), ttl: 3_600_000 } },
      ],
    },
    { label: 'multi container + TTL' },
  );
  await t.op('c1', Op.getData, { path: '/m', watch: false }, { expect: 'OK', label: 'after multi failures' });
  await t.op('c1', Op.multi, { ops: [] }, { expect: 'OK', label: 'multi empty' });
  await t.op(
    'c1',
    Op.multiRead,
    {
      ops: [
        { type: Op.getData, request: { path: '/m', watch: false } },
        { type: Op.getChildren, request: { path: '/m', watch: false } },
        { type: Op.getData, request: { path: '/m/none', watch: false } },
        { type: Op.getChildren, request: { path: '/m/none', watch: false } },
      ],
    },
    { expect: 'OK', label: 'multiRead' },
  );
  await t.op('c1', Op.multiRead, { ops: [] }, { expect: 'OK', label: 'multiRead empty' });
}

async function watches(t: Transcript): Promise<void> {
  t.begin('watches');
  // exists on a missing node registers a watch that fires NodeCreated.
  await t.op('c1', Op.exists, { path: '/w', watch: true }, { expect: 'NONODE', label: 'exists watch on missing' });
  await t.op('c2', Op.create, create('/w', 'w0'), { expect: 'OK' });
  await t.events('c1', 1, 'NodeCreated');
  await t.op('c1', Op.getData, { path: '/w', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.getChildren, { path: '/w', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.exists, { path: '/w', watch: true }, { expect: 'OK', label: 'exists watch on existing' });
  await t.op('c2', Op.setData, { path: '/w', data: bytes('w1'), version: -1 }, { expect: 'OK' });
  await t.events('c1', 1, 'NodeDataChanged (data + exists watch: one event)');
  await t.op('c2', Op.setData, { path: '/w', data: bytes('w2'), version: -1 }, { expect: 'OK', label: 'setData again (no watch left)' });
  await t.op('c2', Op.create, create('/w/x', 'x'), { expect: 'OK' });
  await t.events('c1', 1, 'NodeChildrenChanged');
  // Data + child watch on the same node: one NodeDeleted per watch set; parent child watch.
  await t.op('c1', Op.getData, { path: '/w/x', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.getChildren, { path: '/w/x', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.getChildren, { path: '/w', watch: true }, { expect: 'OK' });
  await t.op('c2', Op.delete, { path: '/w/x', version: -1 }, { expect: 'OK' });
  await t.events('c1', 2, 'NodeDeleted + parent NodeChildrenChanged');
  // A watch set by the writer itself: the event comes before the write's reply.
  await t.op('c2', Op.getData, { path: '/w', watch: true }, { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/w', data: bytes('w3'), version: -1 }, { expect: 'OK' });
  await t.events('c2', 1, 'own write event');
  // A write that fails triggers nothing.
  await t.op('c1', Op.getData, { path: '/w', watch: true }, { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/w', data: bytes('bad'), version: 99 }, { expect: 'BADVERSION' });
  await t.op('c2', Op.delete, { path: '/w', version: -1 }, { expect: 'OK' });
  await t.events('c1', 1, 'NodeDeleted after failed write');
  // Watches on a node created and changed in one multi.
  await t.op('c1', Op.exists, { path: '/wm', watch: true }, { expect: 'NONODE' });
  await t.op('c1', Op.getChildren, { path: '/', watch: true }, { expect: 'OK', label: 'getChildren / watch' });
  await t.op(
    'c2',
    Op.multi,
    {
      ops: [
        { type: Op.create, request: create('/wm', 'a') },
        { type: Op.setData, request: { path: '/wm', data: bytes('b'), version: -1 } },
      ],
    },
    { expect: 'OK', label: 'multi create+set' },
  );
  await t.events('c1', 2, 'multi events');
  // An unauthorized client does not get events for a node it cannot read.
  await t.op('c2', Op.create, create('/wacl', 'x', 0, [{ perms: 31, id: { scheme: 'digest', id: digestId('nobody', 'pw') } }]), {
    expect: 'OK',
  });
  await t.op('c1', Op.exists, { path: '/wacl', watch: true }, { label: 'exists watch on unreadable node' });
}

async function persistentWatches(t: Transcript): Promise<void> {
  t.begin('addWatch');
  await t.op('c1', Op.addWatch, { path: '/p', mode: 0 }, { expect: 'OK', label: 'addWatch persistent (missing node)' });
  await t.op('c2', Op.create, create('/p', 'p0'), { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/p', data: bytes('p1'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/p', data: bytes('p2'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.create, create('/p/k', 'k'), { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/p/k', data: bytes('k1'), version: -1 }, { expect: 'OK', label: 'child data change (not watched)' });
  await t.op('c2', Op.delete, { path: '/p/k', version: -1 }, { expect: 'OK' });
  await t.events('c1', 5, 'persistent events');
  await t.op('c1', Op.addWatch, { path: '/r', mode: 1 }, { expect: 'OK', label: 'addWatch recursive' });
  await t.op('c2', Op.create, create('/r', 'r'), { expect: 'OK' });
  await t.op('c2', Op.create, create('/r/a', 'a'), { expect: 'OK' });
  await t.op('c2', Op.create, create('/r/a/b', 'b'), { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/r/a/b', data: bytes('b1'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.delete, { path: '/r/a/b', version: -1 }, { expect: 'OK' });
  await t.events('c1', 5, 'recursive events');
  await t.op('c1', Op.addWatch, { path: '/r', mode: 0 }, { expect: 'OK', label: 'addWatch persistent on a recursive path' });
  await t.op('c2', Op.create, create('/r/z', 'z'), { expect: 'OK' });
  await t.events('c1', 1, 'persistent + recursive on one path');
}

async function watchManagement(t: Transcript): Promise<void> {
  t.begin('check/removeWatches');
  await t.op('c1', Op.create, create('/rw', 'x'), { expect: 'OK' });
  await t.op('c1', Op.getData, { path: '/rw', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.checkWatches, { path: '/rw', type: 2 }, { expect: 'OK', label: 'checkWatches data (present)' });
  await t.op('c1', Op.checkWatches, { path: '/rw', type: 1 }, { expect: 'NOWATCHER', label: 'checkWatches children (absent)' });
  await t.op('c1', Op.checkWatches, { path: '/rw', type: 3 }, { expect: 'OK', label: 'checkWatches any' });
  await t.op('c1', Op.removeWatches, { path: '/rw', type: 1 }, { expect: 'NOWATCHER', label: 'removeWatches children (absent)' });
  await t.op('c1', Op.removeWatches, { path: '/rw', type: 2 }, { expect: 'OK', label: 'removeWatches data' });
  await t.op('c1', Op.removeWatches, { path: '/rw', type: 2 }, { expect: 'NOWATCHER', label: 'removeWatches data again' });
  await t.op('c2', Op.setData, { path: '/rw', data: bytes('y'), version: -1 }, { expect: 'OK', label: 'set after removeWatches (no event)' });
  await t.op('c1', Op.getChildren, { path: '/rw', watch: true }, { expect: 'OK' });
  await t.op('c1', Op.removeWatches, { path: '/rw', type: 3 }, { expect: 'OK', label: 'removeWatches any' });
  await t.op('c1', Op.removeWatches, { path: '/nonex', type: 3 }, { expect: 'NOWATCHER', label: 'removeWatches on missing node' });
  // (WatcherType 4/5 in check/removeWatches are probed in edgeProbes: 3.8 rejects them.)
  await t.op('c1', Op.removeWatches, { path: '/r', type: 3 }, { label: 'removeWatches any on persistent path' });
  await t.op('c1', Op.removeWatches, { path: '/p', type: 3 }, { label: 'removeWatches any on persistent path /p' });
  await t.op('c2', Op.setData, { path: '/p', data: bytes('after'), version: -1 }, { expect: 'OK', label: 'set /p after removal' });
  await t.op('c2', Op.setData, { path: '/r', data: bytes('after'), version: -1 }, { expect: 'OK', label: 'set /r after removal' });
  // A fresh watch + change proves that nothing else was queued for c1.
  await t.op('c1', Op.getData, { path: '/rw', watch: true }, { expect: 'OK', label: 'fresh watch' });
  await t.op('c2', Op.setData, { path: '/rw', data: bytes('z'), version: -1 }, { expect: 'OK', label: 'fresh change' });
  await t.events('c1', 1, 'only the fresh event');
}

async function setWatches(t: Transcript): Promise<void> {
  t.begin('setWatches');
  await t.op('c2', Op.create, create('/sw', 'x'), { expect: 'OK' });
  await t.op('c2', Op.create, create('/sw/c', 'x'), { expect: 'OK' });
  // relativeZxid 0: everything changed since, so data/child watches fire at once, exist fires
  // NodeCreated for an existing node, and a missing node's data watch fires NodeDeleted.
  await t.special(
    'c3',
    Xid.SET_WATCHES,
    Op.setWatches,
    { relativeZxid: 0, dataWatches: ['/sw', '/sw-gone'], existWatches: ['/sw/c', '/sw-never'], childWatches: ['/sw'] },
    { expect: 'OK', label: 'setWatches relativeZxid 0' },
  );
  await t.events('c3', 4, 'setWatches replay events');
  // Re-register relative to the latest zxid: nothing fires until something changes.
  const latest = await t.op('c3', Op.exists, { path: '/sw', watch: false }, { expect: 'OK', label: 'read latest zxid' });
  const zxid = latest?.zxid ?? 0;
  await t.special(
    'c3',
    Xid.SET_WATCHES,
    Op.setWatches2,
    {
      relativeZxid: zxid,
      dataWatches: ['/sw'],
      existWatches: ['/sw-never'],
      childWatches: ['/sw'],
      persistentWatches: ['/sw/c'],
      persistentRecursiveWatches: ['/sw2'],
    },
    { expect: 'OK', label: 'setWatches2 at latest zxid' },
  );
  await t.op('c2', Op.setData, { path: '/sw', data: bytes('y'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.create, create('/sw-never', 'x'), { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/sw/c', data: bytes('y'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.setData, { path: '/sw/c', data: bytes('z'), version: -1 }, { expect: 'OK' });
  await t.op('c2', Op.create, create('/sw2', 'x'), { expect: 'OK' });
  await t.op('c2', Op.create, create('/sw2/deep', 'x'), { expect: 'OK' });
  await t.events('c3', 6, 'events of re-registered watches');
}

async function auth(t: Transcript): Promise<void> {
  t.begin('auth');
  await t.connect('c4');
  await t.special('c4', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes('alice:secret') }, { expect: 'OK', label: 'auth digest alice' });
  await t.op('c4', Op.whoAmI, null, { expect: 'OK', label: 'whoAmI alice' });
  const alice: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: digestId('alice', 'secret') } }];
  await t.op('c4', Op.create, create('/sec', 'secret', 0, alice), { expect: 'OK' });
  await t.op('c4', Op.create, create('/sec-auth', 'x', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]), { expect: 'OK', label: 'create auth ACL' });
  await t.op('c4', Op.getACL, { path: '/sec-auth' }, { expect: 'OK', label: 'auth ACL expanded' });
  await t.op('c4', Op.getData, { path: '/sec', watch: false }, { expect: 'OK', label: 'owner reads' });
  await t.op('c3', Op.getData, { path: '/sec', watch: false }, { expect: 'NOAUTH', label: 'other reads' });
  await t.op('c3', Op.setData, { path: '/sec', data: bytes('x'), version: -1 }, { expect: 'NOAUTH', label: 'other writes' });
  await t.op('c3', Op.getChildren, { path: '/sec', watch: false }, { expect: 'NOAUTH', label: 'other lists' });
  await t.op('c3', Op.create, create('/sec/x'), { expect: 'NOAUTH', label: 'other creates child' });
  await t.op('c3', Op.setACL, { path: '/sec', acl: OPEN, version: -1 }, { expect: 'NOAUTH', label: 'other setACL' });
  await t.op('c3', Op.getACL, { path: '/sec' }, { label: 'other getACL' });
  // exists() checks READ only since 3.9.2 / 3.8.4 (Debian ships 3.8.0): see KNOWN_DIFFERENCES.
  await t.op('c3', Op.exists, { path: '/sec', watch: false }, { label: 'other exists' });
  await t.op('c3', Op.multiRead, { ops: [{ type: Op.getData, request: { path: '/sec', watch: false } }] }, { expect: 'OK', label: 'other multiRead' });
  await t.op('c3', Op.multi, { ops: [{ type: Op.setData, request: { path: '/sec', data: bytes('x'), version: -1 } }] }, { expect: 'OK', label: 'other multi' });
  // Deleting needs DELETE on the parent (/ is open), not on the node.
  await t.op('c4', Op.create, create('/sec-del', 'x', 0, alice), { expect: 'OK' });
  await t.op('c3', Op.delete, { path: '/sec-del', version: -1 }, { expect: 'OK', label: 'other deletes (parent is open)' });
  await t.op('c4', Op.create, create('/sec/child', 'x', 0, OPEN), { expect: 'OK' });
  await t.op('c3', Op.delete, { path: '/sec/child', version: -1 }, { expect: 'NOAUTH', label: 'other deletes child of closed node' });
  // A wrong password authenticates as a different digest id: still no access.
  await t.connect('c6');
  await t.special('c6', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes('alice:wrong') }, { expect: 'OK', label: 'auth wrong password' });
  await t.op('c6', Op.getData, { path: '/sec', watch: false }, { expect: 'NOAUTH', label: 'wrong password reads' });
  await t.special('c6', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes('alice:secret') }, { expect: 'OK', label: 'second auth' });
  await t.op('c6', Op.getData, { path: '/sec', watch: false }, { expect: 'OK', label: 'reads after second auth' });
  await t.op('c6', Op.whoAmI, null, { expect: 'OK', label: 'whoAmI two digests' });
  // ZooKeeper keeps a connection's ids in a hash set: whoAmI and an `auth` ACL list them in its
  // order, which for these two is not the order they were added in (session/auth_id_set.ts).
  await t.connect('c9');
  await t.special('c9', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes('dave:two') }, { expect: 'OK', label: 'auth dave' });
  await t.special('c9', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes('carol:one') }, { expect: 'OK', label: 'auth carol' });
  await t.op('c9', Op.whoAmI, null, { expect: 'OK', label: 'whoAmI in hash order' });
  await t.op('c9', Op.create, create('/sec-auth2', 'x', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]), { expect: 'OK', label: 'create auth ACL, two ids' });
  await t.op('c9', Op.getACL, { path: '/sec-auth2' }, { expect: 'OK', label: 'auth ACL expanded in hash order' });
  // Super digest bypasses ACLs.
  await t.connect('c5');
  await t.special('c5', Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: bytes(`super:${SUPER_PASSWORD}`) }, { expect: 'OK', label: 'auth super' });
  await t.op('c5', Op.getData, { path: '/sec', watch: false }, { expect: 'OK', label: 'super reads' });
  await t.op('c5', Op.setData, { path: '/acl', data: bytes('super'), version: -1 }, { expect: 'OK', label: 'super writes read-only node' });
  await t.op('c5', Op.whoAmI, null, { expect: 'OK', label: 'whoAmI super' });
  // Unknown scheme: AUTHFAILED and the server closes the connection.
  await t.connect('c7');
  await t.special('c7', Xid.AUTH, Op.auth, { type: 0, scheme: 'nosuchscheme', auth: bytes('x') }, { expect: 'AUTHFAILED', label: 'auth unknown scheme' });
  await t.expectClosed('c7');
  // ip is a valid scheme but cannot be added by auth packet.
  await t.connect('c8');
  await t.special('c8', Xid.AUTH, Op.auth, { type: 0, scheme: 'ip', auth: bytes('127.0.0.1') }, { label: 'auth ip scheme' });
  await t.expectClosed('c8', 2_000);
}

async function sessionResume(t: Transcript): Promise<void> {
  t.begin('session resume');
  await t.connect('s1', { timeout_ms: 30_000 });
  await t.op('s1', Op.create, create('/s1-eph', 'x', 1), { expect: 'OK' });
  await t.op('s1', Op.getData, { path: '/s1-data', watch: true }, { expect: 'NONODE', label: 'getData watch on missing (no watch)' });
  const s1 = t.session('s1');
  t.drop('s1');
  // Resume the session on a new connection: same id, its ephemeral is still there.
  await t.connect('s1b', { timeout_ms: 30_000, sessionId: s1.sessionId, passwd: s1.passwd, lastZxidSeen: 0 }, { expect: 'OK', label: 'resume session' });
  await t.op('s1b', Op.getEphemerals, { prefixPath: '/' }, { expect: 'OK', label: 'ephemerals after resume' });
  await t.op('s1b', Op.exists, { path: '/s1-eph', watch: false }, { expect: 'OK' });
  // Wrong password: the server answers like an expired session and closes. ZooKeeper first
  // drops the connection currently holding that session (even though the password is wrong).
  const bad = new Uint8Array(16).fill(7);
  await t.connect('s1c', { timeout_ms: 30_000, sessionId: s1.sessionId, passwd: bad }, { expect: 'EXPIRED', label: 'resume with wrong password' });
  await t.expectClosed('s1c');
  await t.expectClosed('s1b', 5_000, 'old connection after a wrong-password resume');
  await t.connect('s1d', { timeout_ms: 30_000, sessionId: s1.sessionId, passwd: s1.passwd }, { expect: 'OK', label: 'resume again' });
  await t.op('s1d', Op.exists, { path: '/s1-eph', watch: false }, { expect: 'OK', label: 'ephemeral survives' });
  // Unknown session id.
  await t.connect('s9', { timeout_ms: 30_000, sessionId: 0x7abcdef012345n, passwd: bad }, { expect: 'EXPIRED', label: 'resume unknown session' });
  await t.expectClosed('s9');
  // A client that has seen a zxid the server has not: the server refuses it.
  await t.connect('s10', { timeout_ms: 30_000, lastZxidSeen: 2 ** 40 }, { expect: 'CLOSED', label: 'lastZxidSeen from the future' });
  // Closing the session removes its ephemerals; the session cannot be resumed afterwards.
  await t.closeSession('s1d');
  await t.op('c1', Op.exists, { path: '/s1-eph', watch: false }, { expect: 'NONODE', label: 'ephemeral gone after close' });
  await t.connect('s11', { timeout_ms: 30_000, sessionId: s1.sessionId, passwd: s1.passwd }, { expect: 'EXPIRED', label: 'resume closed session' });
  await t.expectClosed('s11');
}

/** Requests that may make a server close the connection: each on its own throwaway client. */
async function edgeProbes(t: Transcript): Promise<void> {
  t.begin('probes');
  await t.probe('e1', () => t.op('e1', Op.create, create('/'), { label: 'create root' }));
  await t.probe('e2', () => t.op('e2', Op.getData, { path: 'noslash', watch: false }, { label: 'getData bad path' }));
  await t.probe('e3', () => t.op('e3', Op.delete, { path: '/', version: -1 }, { label: 'delete root' }));
  await t.probe('e4', () => t.op('e4', Op.delete, { path: '/zookeeper', version: -1 }, { label: 'delete /zookeeper' }));
  await t.probe('e5', () => t.op('e5', Op.create, create('/zookeeper/mine'), { label: 'create under /zookeeper' }));
  await t.probe('e6', () => t.op('e6', Op.addWatch, { path: '/p', mode: 7 }, { label: 'addWatch bad mode' }));
  await t.probe('e7', () => t.op('e7', Op.addWatch, { path: 'bad', mode: 0 }, { label: 'addWatch bad path' }));
  await t.probe('e8', () => t.op('e8', Op.checkWatches, { path: '/p', type: 4 }, { label: 'checkWatches persistent' }));
  await t.probe('e9', () => t.op('e9', Op.removeWatches, { path: '/p', type: 4 }, { label: 'removeWatches persistent' }));
  await t.probe('e10', () => t.op('e10', Op.checkWatches, { path: '/r', type: 5 }, { label: 'checkWatches recursive' }));
  await t.probe('e11', () => t.op('e11', Op.checkWatches, { path: '/r', type: 9 }, { label: 'checkWatches bad type' }));
  await t.probe('e12', () => t.op('e12', Op.getChildren, { path: '/d/', watch: false }, { label: 'getChildren trailing slash' }));
  await t.probe('e13', () => t.op('e13', Op.sync, { path: 'noslash' }, { label: 'sync bad path' }));
  await t.probe('e14', () => t.op('e14', Op.getEphemerals, { prefixPath: 'x' }, { label: 'getEphemerals bad prefix' }));
  await t.probe('e15', () => t.op('e15', Op.setData, { path: '/d', data: new Uint8Array(1_100_000), version: -1 }, { label: 'setData above jute.maxbuffer' }), 2_000);
  // An unknown opcode: UNIMPLEMENTED (reply zxid -1), then the server closes the connection.
  await t.probe('uk', () => t.unknownOp('uk', 999, { expect: 'UNIMPLEMENTED', label: 'unknown opcode 999' }), 2_000);
  await t.probe('rc', () =>
    t.op('rc', Op.reconfig, { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1 }, { expect: 'RECONFIGDISABLED', label: 'reconfig' }),
  );
  await t.probe('sa', () => t.op('sa', Op.sasl, { token: bytes('x') }, { label: 'sasl' }));
  // Mixing read and write ops in one multi is rejected.
  await t.probe('mx', () =>
    t.op(
      'mx',
      Op.multi,
      {
        ops: [
          { type: Op.getData, request: { path: '/d', watch: false } },
          { type: Op.setData, request: { path: '/d', data: bytes('q'), version: -1 } },
        ],
      },
      { label: 'multi mixing read and write' },
    ),
  );
  await t.probe('mr', () =>
    t.op('mr', Op.multiRead, { ops: [{ type: Op.setData, request: { path: '/d', data: bytes('q'), version: -1 } }] }, { label: 'multiRead with a write op' }),
  );
}

async function misc(t: Transcript): Promise<void> {
  t.begin('misc');
  await t.special('c1', Xid.PING, Op.ping, null, { expect: 'OK', label: 'ping after writes' });
  await t.op('c1', Op.getData, { path: '/d', watch: false }, { expect: 'OK', label: '/d unchanged by probes' });
  await t.op('c1', Op.getChildren, { path: '/', watch: false }, { expect: 'OK', label: 'root children after probes' });
}

async function reaping(t: Transcript): Promise<void> {
  t.begin('reaping');
  // A container is deleted once it has had children and is empty again; a TTL node once its
  // TTL has passed without changes. Both are checked every checkIntervalMs (1 s here).
  await t.op('c2', Op.createContainer, create('/rc', 'c', 4), { expect: 'OK' });
  await t.op('c2', Op.create, create('/rc/child', 'x'), { expect: 'OK' });
  await t.op('c1', Op.exists, { path: '/rc', watch: true }, { expect: 'OK', label: 'watch container' });
  await t.op('c2', Op.delete, { path: '/rc/child', version: -1 }, { expect: 'OK' });
  await t.events('c1', 1, 'container reaped (NodeDeleted)');
  await t.op('c1', Op.exists, { path: '/rc', watch: false }, { expect: 'NONODE', label: 'container gone' });
  await t.op('c2', Op.createTTL, { ...create('/rt', 't', 5), ttl: 500 }, { expect: 'OK' });
  await t.op('c1', Op.exists, { path: '/rt', watch: true }, { expect: 'OK', label: 'watch TTL node' });
  await t.events('c1', 1, 'TTL node reaped (NodeDeleted)');
  await t.op('c1', Op.exists, { path: '/rt', watch: false }, { expect: 'NONODE', label: 'TTL node gone' });
  await t.op('c1', Op.exists, { path: '/cm/cont', watch: false }, { expect: 'OK', label: 'never-filled container kept' });
}
