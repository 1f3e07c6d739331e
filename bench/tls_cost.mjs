// What TLS costs on the client port: the same closed-loop load (Figure 5's 32 sessions x 100 in
// flight, 1 KiB values) against the plain port and the secure port of waitfree and of Apache
// ZooKeeper 3.8 (its Netty connection factory, which serves both ports; the TLS guide's setup),
// one fresh server per system, the points alternating system by system. Client certificates
// (ssl.clientAuth=NEED), TLSv1.2 as ZooKeeper 3.8 defaults to, the test fixtures' keys.
//
//   npm run build && node bench/tls_cost.mjs [--reads 0,100] [--duration 5] [--rounds 1]

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runLoadgen } from './lib/loadgen_process.mjs';

const { freePort, launchServer } = await import('../dist/check/launch.js');

const FIXTURES = fileURLToPath(new URL('../test/fixtures/tls/', import.meta.url));
const NETTY_TLS_JARS = ['/usr/share/java/netty-resolver.jar', '/usr/share/java/netty-codec.jar'];

const { values } = parseArgs({ options: { reads: { type: 'string' }, duration: { type: 'string' }, rounds: { type: 'string' } } });
const reads = (values.reads ?? '0,100').split(',').map(Number);
const duration_s = Number(values.duration ?? 5);
const rounds = Number(values.rounds ?? 1);

async function launch(kind) {
  const secure = await freePort();
  const extra = [
    `secureClientPort=${secure}`,
    `ssl.keyStore.location=${join(FIXTURES, 'server.p12')}`,
    'ssl.keyStore.password=changeit',
    `ssl.trustStore.location=${join(FIXTURES, 'ca.pem')}`,
    'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
  ];
  if (kind === 'zookeeper') extra.push('serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory');
  const server = await launchServer(kind, { extra_config: extra, class_path_extra: kind === 'zookeeper' ? NETTY_TLS_JARS : [] });
  return { server, plain: server.connect, secure: `127.0.0.1:${secure}` };
}

/** One load point against the plain or the secure port. */
async function point(target, tls, read_pct) {
  const args = ['--connect', tls ? target.secure : target.plain, '--reads', String(read_pct), '--clients', '32', '--outstanding', '100',
    '--duration', String(duration_s), '--warmup', '2', '--server-pid', String(target.server.pid)];
  if (tls) args.push('--tls-ca', join(FIXTURES, 'ca.pem'), '--tls-cert', join(FIXTURES, 'client.pem'));
  const r = await runLoadgen(args);
  return { ops_per_s: r.ops_per_s, us: r.server_us_per_request, p99_ms: r.latency.p99_us / 1000 };
}

const results = [];
for (let round = 0; round < rounds; round++) {
  for (const kind of ['waitfree', 'zookeeper']) {
    const target = await launch(kind);
    try {
      for (const r of reads) for (const tls of [false, true]) results.push({ kind, tls, reads: r, ...(await point(target, tls, r)) });
    } finally {
      await target.server.stop();
    }
  }
}
console.log('| reads | system | plain ops/s | TLS ops/s | TLS / plain | server µs per request, plain / TLS | p99 ms, plain / TLS |');
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const r of reads) {
  for (const kind of ['waitfree', 'zookeeper']) {
    const med = (tls, f) => {
      const xs = results.filter((x) => x.kind === kind && x.reads === r && x.tls === tls).map(f).sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)];
    };
    const p = med(false, (x) => x.ops_per_s), t = med(true, (x) => x.ops_per_s);
    console.log(`| ${r} % | ${kind} | ${Math.round(p).toLocaleString('en-US')} | ${Math.round(t).toLocaleString('en-US')} | ${(t / p).toFixed(2)}x | ${med(false, (x) => x.us).toFixed(1)} / ${med(true, (x) => x.us).toFixed(1)} | ${med(false, (x) => x.p99_ms).toFixed(2)} / ${med(true, (x) => x.p99_ms).toFixed(2)} |`);
  }
}
