// Micro-benchmark of quota bookkeeping in the Applier (src/commit/quota_tracker.ts): the recount
// of a quota's subtree (what creating a stats node, or loading a snapshot, costs the commit
// thread; ZooKeeper walks the subtree the same way), and a create of 100 B under a quota'd path
// against one under no quota (the stats node rewritten in the same batch).
// Run after a build:  npm run build && node bench/micro/quota.bench.mjs [subtree_nodes]
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { Applier } from '../../dist/commit/applier.js';
import { createSystemNodes, TreeWriter } from '../../dist/store/arena/tree_writer.js';

const SUBTREE = Number(process.argv[2] ?? 100_000);
const FANOUT = 100;
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const value = new Uint8Array(100).fill(7);
const enc = new TextEncoder();

/** A shared tree with /q (SUBTREE nodes below it, FANOUT per directory) and /free. */
function setup() {
  const writer = TreeWriter.create({});
  writer.begin();
  createSystemNodes(writer);
  writer.commit(0);
  const applier = new Applier(writer, 0);
  let zxid = 0;
  const create = (path, data = value) =>
    applier.apply({ header: { session_id: 0n, cxid: 0, zxid: ++zxid, time_ms: 1 }, op: { kind: 'create', path, data, acl: ACL, ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 } });
  const del = (path) => applier.apply({ header: { session_id: 0n, cxid: 0, zxid: ++zxid, time_ms: 1 }, op: { kind: 'delete', path, opcode: 2 } });
  create('/q');
  create('/free');
  for (let d = 0; d < SUBTREE / FANOUT; d++) {
    create(`/q/d${d}`);
    for (let i = 0; i < FANOUT - 1; i++) create(`/q/d${d}/n${i}`);
    applier.seal();
  }
  create('/zookeeper/quota/q', null);
  create('/zookeeper/quota/q/zookeeper_limits', enc.encode('count=-1,bytes=-1'));
  applier.seal();
  return { applier, create, del };
}

const t = setup();
let n = 0;
const bench = new Bench({ time: 1000, warmupTime: 200 });
bench
  .add(`recount: create the stats node of a quota over ${SUBTREE.toLocaleString('en-US')} nodes`, () => {
    t.create('/zookeeper/quota/q/zookeeper_stats', enc.encode('count=0,bytes=0'));
    t.del('/zookeeper/quota/q/zookeeper_stats');
    t.applier.seal();
  })
  .add('create 100 B under no quota (batches of 100)', () => {
    t.create(`/free/a${n++}`);
    if (n % 100 === 0) t.applier.seal();
  });
await bench.run();
// The stats node is there for the last case: every create under /q rewrites it.
t.create('/zookeeper/quota/q/zookeeper_stats', enc.encode('count=0,bytes=0'));
t.applier.seal();
const quota_bench = new Bench({ time: 1000, warmupTime: 200 });
quota_bench.add('create 100 B under a quota (batches of 100)', () => {
  t.create(`/q/d0/b${n++}`);
  if (n % 100 === 0) t.applier.seal();
});
await quota_bench.run();

console.log(`node ${process.version}, load average ${loadavg()[0].toFixed(2)}`);
for (const task of [...bench.tasks, ...quota_bench.tasks]) {
  const r = task.result;
  console.log(`${task.name.padEnd(70)} ${(r.latency.mean * 1000).toFixed(1).padStart(12)} us mean, p99 ${(r.latency.p99 * 1000).toFixed(1)} us`);
}
