// Micro-benchmark of the shared off-heap tree (src/store/arena/) against the heap tree
// (src/tree/data_tree.ts): lookups in 100k znodes, getChildren of 10k children, and applying
// a batch of 1,000 setData. Values are 100 B. The arena reader is pinned once (a read worker
// pins per batch of requests); its paths are UTF-8 bytes, as a request frame carries them.
// Run after a build:  npm run build && node bench/micro/arena.bench.mjs
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { DataTree } from '../../dist/tree/data_tree.js';
import { statOf } from '../../dist/tree/znode.js';
import { TreeReader } from '../../dist/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../dist/store/arena/tree_writer.js';

const NODES = 100_000;
const FANOUT = 1_000; // /t/gNNN/nNNNNNN: 100 parents of 1,000 children
const KIDS = 10_000; // /c/kNNNNN
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const value = new Uint8Array(100).fill(7);
const enc = new TextEncoder();

// ---- heap tree ----
const heap = new DataTree();
let hz = 0;
const header = () => ({ session_id: 1n, cxid: 0, zxid: ++hz, time_ms: 1_700_000_000_000 });
const cversions = new Map();
function heapCreate(path, data = value) {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const cversion = (cversions.get(parent) ?? 0) + 1;
  cversions.set(parent, cversion);
  heap.apply({ header: header(), op: { kind: 'create', path, data, acl: ACL, ephemeral_owner: 0n, parent_cversion: cversion, opcode: 1 } });
}

// ---- arena tree ----
const writer = TreeWriter.create({ segments_max: 4 });
let az = 0;
const acv = new Map();
writer.begin();
createSystemNodes(writer);
let in_batch = 0;
function arenaCreate(path, data = value) {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const cversion = (acv.get(parent) ?? 0) + 1;
  acv.set(parent, cversion);
  writer.create(path, data, ACL, 0n, ++az, 1_700_000_000_000, cversion);
  if (++in_batch === 1000) {
    writer.commit(az);
    writer.begin();
    in_batch = 0;
  }
}

const paths = [];
for (const create of [heapCreate, arenaCreate]) {
  create('/t', null);
  create('/c', null);
  for (let g = 0; g < NODES / FANOUT; g++) {
    const gp = `/t/g${String(g).padStart(3, '0')}`;
    create(gp, null);
    for (let i = 0; i < FANOUT; i++) {
      const p = `${gp}/n${String(g * FANOUT + i).padStart(6, '0')}`;
      create(p);
      if (create === heapCreate) paths.push(p);
    }
  }
  for (let i = 0; i < KIDS; i++) create(`/c/k${String(i).padStart(5, '0')}`);
}
writer.commit(az);
const path_bytes = paths.map((p) => enc.encode(p));
const c_bytes = enc.encode('/c');
const reader = new TreeReader(writer.handle);
reader.pin();
const out = new Uint8Array(1 << 20);
const names = new Uint8Array(1 << 20);

let k = 0;
let version = 0;
const bench = new Bench({ time: 500, warmupTime: 100 });
bench
  .add('heap: get (100k znodes)', () => {
    if (heap.get(paths[(k = (k + 7919) % NODES)]) === undefined) throw new Error('lookup missed');
  })
  .add('arena: find by path bytes (100k znodes)', () => {
    const p = path_bytes[(k = (k + 7919) % NODES)];
    if (!reader.find(p, 0, p.length)) throw new Error('lookup missed');
  })
  .add('heap: get + statOf + data (getData)', () => {
    const node = heap.get(paths[(k = (k + 7919) % NODES)]);
    if (statOf(node).dataLength !== 100 || node.data === null) throw new Error('bad node');
  })
  .add('arena: find + statTo + copyData (getData)', () => {
    const p = path_bytes[(k = (k + 7919) % NODES)];
    reader.find(p, 0, p.length);
    reader.statTo(out, 0);
    if (reader.copyData(out, 68) !== 100) throw new Error('bad node');
  })
  .add('arena: pin + find + statTo + unpin', () => {
    reader.unpin();
    reader.pin();
    const p = path_bytes[(k = (k + 7919) % NODES)];
    reader.find(p, 0, p.length);
    reader.statTo(out, 0);
  })
  .add('heap: getChildren of 10k (sorted names)', () => {
    if (heap.getChildren('/c').length !== KIDS) throw new Error('children');
  })
  .add('heap: getChildren of 10k + UTF-8 into a buffer (reply)', () => {
    let at = 0;
    for (const name of heap.getChildren('/c')) at += enc.encodeInto(name, names.subarray(at)).written;
    if (at === 0) throw new Error('children');
  })
  .add('arena: children of 10k copied into a buffer', () => {
    reader.openChildren(c_bytes, 0, c_bytes.length);
    let at = 0;
    let n = 0;
    while (reader.nextChild()) {
      at += reader.copyChildName(names, at);
      n++;
    }
    if (n !== KIDS) throw new Error('children');
  })
  .add('heap: apply 1,000 setData', () => {
    for (let i = 0; i < 1000; i++) {
      heap.apply({ header: header(), op: { kind: 'setData', path: paths[(k = (k + 7919) % NODES)], data: value, version: ++version } });
    }
  })
  .add('arena: batch of 1,000 setData + commit + reclaim', () => {
    reader.unpin(); // a pinned reader would (rightly) hold every replaced page
    writer.begin();
    for (let i = 0; i < 1000; i++) writer.setData(paths[(k = (k + 7919) % NODES)], value, ++version, ++az, 1_700_000_000_000);
    writer.commit(az);
    reader.pin();
  });

await bench.run();
const s = writer.stats();
console.log(`arena: ${reader.nodeCount()} znodes, ${(s.bytes_in_use / 2 ** 20).toFixed(1)} MiB in use; heap tree: ${heap.node_count} znodes; node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.table(bench.table());
