// What quorum TLS (sslQuorum=true, README "Quorum TLS") costs writes: ensembles of 3 of waitfree
// and of Apache ZooKeeper 3.8 on this host, with plain links between members and with TLS links
// (each member's certificate from the test fixtures' CA, verified both ways, hostname verification
// on, TLSv1.2 as ZooKeeper 3.8 defaults to), the same closed-loop write load against every member
// (clients spread round robin; most writes go through a follower to the leader). One fresh
// ensemble per system, kind of link and round; systems alternating.
//
//   npm run build && node bench/quorum_tls_cost.mjs [--clients 16] [--outstanding 64] [--warmup 8] [--duration 5] [--rounds 1]
//
// The warm-up is long because a fresh JVM spends its first seconds compiling (ZooKeeper's C2
// threads are its busiest in the first seconds of bench/run.mjs's ensemble points).

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli } from './lib/cli_args.mjs';
import { runLoadgen } from './lib/loadgen_process.mjs';
import { requireBench, requireBuilt } from './lib/require_built.mjs';

const { launchEnsemble, DEFAULT_TIMING } = await import(requireBench('ensemble_launch.js'));
const { apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const FIXTURES = fileURLToPath(new URL('../test/fixtures/tls/', import.meta.url));
/** ZooKeeper's quorum TLS port tells TLS from plain with Netty's SslHandler: without these jars
 *  its election listener thread dies (NoClassDefFoundError) and no leader is ever elected. */
const NETTY_TLS_JARS = ['/usr/share/java/netty-resolver.jar', '/usr/share/java/netty-codec.jar'];

const USAGE = `usage: node bench/quorum_tls_cost.mjs [--clients 16] [--outstanding 64] [--warmup 8] [--duration 5] [--rounds 1] [--systems waitfree,zookeeper]
Write throughput of ensembles of 3 with plain and with TLS links between members (sslQuorum).`;
const { atLeast, systems: systemsOf } = parseCli(USAGE, {
  clients: { type: 'string', default: '16' },
  outstanding: { type: 'string', default: '64' },
  warmup: { type: 'string', default: '8' },
  duration: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '1' },
  systems: { type: 'string', default: 'waitfree,zookeeper' },
});
const clients = atLeast('clients', 1);
const outstanding = atLeast('outstanding', 1);
const warmup_s = atLeast('warmup', 0);
const duration_s = atLeast('duration', 1);
const rounds = atLeast('rounds', 1);
const systems = systemsOf('systems', ['waitfree', 'zookeeper'], (x) => x === 'waitfree' || apacheZkAvailable());

/** ZooKeeper's quorum TLS lines (its guide's), which waitfree reads as they are. */
const QUORUM_TLS = [
  'sslQuorum=true',
  `ssl.quorum.keyStore.location=${join(FIXTURES, 'server.p12')}`,
  'ssl.quorum.keyStore.password=changeit',
  `ssl.quorum.trustStore.location=${join(FIXTURES, 'ca.pem')}`,
];

/** One load point, every member's CPU charged. */
async function point(ensemble) {
  const args = ['--connect', ensemble.connect, '--reads', '0', '--clients', String(clients), '--outstanding', String(outstanding),
    '--duration', String(duration_s), '--warmup', String(warmup_s)];
  for (const pid of ensemble.pids()) args.push('--server-pid', String(pid));
  const r = await runLoadgen(args);
  return { ops_per_s: r.ops_per_s, us: r.server_us_per_request, p50_ms: r.latency.p50_us / 1000, p99_ms: r.latency.p99_us / 1000 };
}

const results = [];
for (let round = 0; round < rounds; round++) {
  for (const tls of [false, true]) {
    for (const kind of systems) {
      const ensemble = await launchEnsemble(kind, {
        replicas: 3, fsync: 'always', heap_mb: 512, read_workers: undefined, data_root: undefined, timing: DEFAULT_TIMING,
        extra_config: tls ? QUORUM_TLS : [],
        class_path_extra: kind === 'zookeeper' ? NETTY_TLS_JARS : [],
      });
      try {
        const r = await point(ensemble);
        results.push({ kind, tls, ...r });
        console.error(`round ${round + 1}: ${kind} ${tls ? 'TLS' : 'plain'} links: ${Math.round(r.ops_per_s)} writes/s, ${r.us.toFixed(1)} µs/write`);
      } finally {
        await ensemble.stop();
      }
    }
  }
}

const med = (kind, tls, f) => {
  const xs = results.filter((x) => x.kind === kind && x.tls === tls).map(f).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
};
console.log(`| system | plain links writes/s | TLS links writes/s | TLS / plain | server µs per write, plain / TLS | p50 ms, plain / TLS | p99 ms, plain / TLS |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const kind of systems) {
  const p = med(kind, false, (x) => x.ops_per_s), t = med(kind, true, (x) => x.ops_per_s);
  const pair = (f, digits) => `${med(kind, false, f).toFixed(digits)} / ${med(kind, true, f).toFixed(digits)}`;
  console.log(`| ${kind} | ${Math.round(p).toLocaleString('en-US')} | ${Math.round(t).toLocaleString('en-US')} | ${(t / p).toFixed(2)}x | ${pair((x) => x.us, 1)} | ${pair((x) => x.p50_ms, 2)} | ${pair((x) => x.p99_ms, 1)} |`);
}
if (systems.length === 2) {
  for (const tls of [false, true]) {
    const ratio = med('waitfree', tls, (x) => x.ops_per_s) / med('zookeeper', tls, (x) => x.ops_per_s);
    console.log(`waitfree / zookeeper, ${tls ? 'TLS' : 'plain'} links: ${ratio.toFixed(2)}x`);
  }
}
