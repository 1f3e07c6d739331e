// Micro-benchmark of the data tree (src/tree/data_tree.ts): lookups in a tree of 100k znodes and
// applying committed txns (setData, create + delete), the per-txn work every read worker repeats.
// Run after a build:  npm run build && node bench/micro/tree.bench.mjs
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { DataTree } from '../../dist/tree/data_tree.js';

const NODES = 100_000;
const FANOUT = 1_000; // /t/gNNN/nNNNNNN: 100 parents of 1,000 children
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const value = new Uint8Array(1024).fill(7);

const tree = new DataTree();
let zxid = 0;
const header = () => ({ session_id: 1n, cxid: 0, zxid: ++zxid, time_ms: 1_700_000_000_000 });
const cversions = new Map();
function create(path, data = value) {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const cversion = (cversions.get(parent) ?? 0) + 1;
  cversions.set(parent, cversion);
  return tree.apply({ header: header(), op: { kind: 'create', path, data, acl: ACL, ephemeral_owner: 0n, parent_cversion: cversion, opcode: 1 } });
}
const paths = [];
create('/t', null);
for (let g = 0; g < NODES / FANOUT; g++) {
  create(`/t/g${String(g).padStart(3, '0')}`, null);
  for (let i = 0; i < FANOUT; i++) {
    const p = `/t/g${String(g).padStart(3, '0')}/n${String(g * FANOUT + i).padStart(6, '0')}`;
    create(p);
    paths.push(p);
  }
}

let k = 0;
let version = 0;
let fresh = 0;
const bench = new Bench({ time: 400, warmupTime: 100 });
bench
  .add('get (100k znodes)', () => {
    if (tree.get(paths[(k = (k + 7919) % NODES)]) === undefined) throw new Error('lookup missed');
  })
  .add('stat (100k znodes)', () => {
    tree.stat(paths[(k = (k + 7919) % NODES)]);
  })
  .add('apply setData 1 KiB', () => {
    tree.apply({ header: header(), op: { kind: 'setData', path: paths[(k = (k + 7919) % NODES)], data: value, version: ++version } });
  })
  .add('apply create + delete 1 KiB', () => {
    const p = `/t/g000/fresh${fresh++}`;
    create(p);
    tree.apply({ header: header(), op: { kind: 'delete', path: p, opcode: 2 } });
  });

await bench.run();
console.log(`data tree: ${tree.node_count} znodes, node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.table(bench.table());
