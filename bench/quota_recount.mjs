#!/usr/bin/env node
// What a quota over a large namespace costs, waitfree and Apache ZooKeeper side by side: N znodes
// of 100 B under /q, then zkCli's setquota as its requests go (the quota node, the limit node,
// the stats node, whose creation makes the server count the subtree), timing the stats node's
// create, whose reply waits for that count; then creates under the quota against creates
// outside it (each one rewrites the stats node). Bounded: N creates, M timed creates, a deadline.
//
//   npm run build && node bench/quota_recount.mjs [--nodes 100000] [--creates 2000] [--systems waitfree,zookeeper]
import { parseArgs } from 'node:util';
import { requireBench, requireBuilt } from './lib/require_built.mjs';

const { launchServer, apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const { BenchSession } = await import(requireBench('session.js'));
const { machineFacts, factsLine } = await import(requireBench('machine.js'));
const { Op } = await import(requireBuilt('protocol/index.js'));

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100000' },
    creates: { type: 'string', default: '2000' },
    systems: { type: 'string', default: 'waitfree,zookeeper' },
  },
});
const NODES = Number(values.nodes);
const CREATES = Number(values.creates);
const LANES = 64;
const DEADLINE_MS = 600_000;
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const value = new Uint8Array(100).fill(0x78);
const enc = new TextEncoder();

async function create(s, path, data = value) {
  const r = await s.request(Op.create, { path, data, acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
  if (r.header.err !== 0) throw new Error(`create ${path}: error ${r.header.err}`);
}

/** `count` creates of `pathOf(i)`, LANES in flight; returns µs per create (wall clock). */
async function creates(s, count, pathOf, deadline) {
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error('deadline passed');
      await create(s, pathOf(next++));
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return ((performance.now() - t0) * 1000) / count;
}

async function measure(kind) {
  const server = await launchServer(kind, { heap_mb: 1024 });
  const deadline = Date.now() + DEADLINE_MS;
  const s = await BenchSession.open({ host: '127.0.0.1', port: server.port }, 30_000);
  try {
    await create(s, '/q');
    await create(s, '/free');
    const dirs = Math.ceil(NODES / 1000);
    await creates(s, dirs, (i) => `/q/d${i}`, deadline);
    await creates(s, NODES - dirs, (i) => `/q/d${i % dirs}/n${i}`, deadline);
    await create(s, '/zookeeper/quota/q', null);
    await create(s, '/zookeeper/quota/q/zookeeper_limits', enc.encode('count=-1,bytes=-1'));
    const t0 = performance.now();
    await create(s, '/zookeeper/quota/q/zookeeper_stats', enc.encode('count=0,bytes=0'));
    const recount_ms = performance.now() - t0;
    const stats = await s.request(Op.getData, { path: '/zookeeper/quota/q/zookeeper_stats', watch: false }, 'GetDataResponse');
    const text = new TextDecoder().decode(stats.body.data);
    const outside_us = await creates(s, CREATES, (i) => `/free/c${i}`, deadline);
    const under_us = await creates(s, CREATES, (i) => `/q/d0/c${i}`, deadline);
    return { kind, recount_ms, text, outside_us, under_us };
  } finally {
    await s.close();
    await server.stop();
  }
}

const systems = values.systems.split(',').filter((k) => k !== 'zookeeper' || apacheZkAvailable());
console.log(factsLine(machineFacts()));
console.log(`${NODES.toLocaleString('en-US')} znodes under /q; ${CREATES} creates each way, ${LANES} in flight`);
const rows = [];
for (const kind of systems) rows.push(await measure(kind));
for (const r of rows) {
  console.log(`${r.kind.padEnd(10)} stats node create (the recount) ${r.recount_ms.toFixed(1)} ms -> ${r.text}; creates outside a quota ${r.outside_us.toFixed(1)} us, under it ${r.under_us.toFixed(1)} us (wall clock per create)`);
}
