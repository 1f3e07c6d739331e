// maxClientCnxns live (issue 10, "resource bounds"): the per-IP connection bound, on waitfree and
// on Apache ZooKeeper 3.8 (as net_edges.test.ts does for maxCnxns), over real TCP. The first N
// connections from 127.0.0.1 keep working, the (N+1)th is closed without a session (four-letter
// connections count and are closed too), another IP (127.0.0.2) is not affected, and a
// connection that closes gives its slot back.
//
// How these fail: the bound not applied (a 4th session granted), applied to every IP together
// (127.0.0.2 refused), a refused socket left open or answered, sessions already open disturbed,
// a refused connection counted in or a closed one never released (no slot after a close).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apacheZkAvailable, launchZooKeeper } from '../../src/check/launch.js';
import { familyValue, parseExposition } from '../metrics/prometheus_parse.js';
import { fourLetterRaw, openSession, sessionWithin, type RawSession } from '../support/containment_net.js';
import { startTestServer } from './harness.js';

const MAX = 3;
const SESSION_WAIT_MS = 5_000;

interface Target {
  port: number;
  /** waitfree only: the admin /metrics text. */
  metrics(): Promise<string | null>;
  stop(): Promise<void>;
}

async function waitfreeTarget(): Promise<Target> {
  const s = await startTestServer({ max_client_cnxns: MAX, max_cnxns: 0, four_letter_whitelist: '*' });
  return {
    port: s.port,
    metrics: async () => (s.admin === null ? null : (await fetch(`http://127.0.0.1:${s.admin.port}/metrics`)).text()),
    stop: () => s.stop(),
  };
}

async function zookeeperTarget(): Promise<Target> {
  // launchZooKeeper writes maxClientCnxns=0 first; the later line wins (java.util.Properties).
  const z = await launchZooKeeper({ heap_mb: 256, fsync: 'none', extra_config: [`maxClientCnxns=${MAX}`] });
  return { port: z.port, metrics: async () => null, stop: () => z.stop() };
}

const KINDS = apacheZkAvailable() ? (['waitfree', 'zookeeper'] as const) : (['waitfree'] as const);

describe.each(KINDS)(`maxClientCnxns=${MAX} (per-IP connection bound) on %s`, (kind) => {
  let target: Target;
  const sessions: RawSession[] = [];

  beforeAll(async () => {
    target = kind === 'waitfree' ? await waitfreeTarget() : await zookeeperTarget();
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await target?.stop();
  });

  it('the 4th connection from 127.0.0.1 is closed, the first 3 keep working, 127.0.0.2 is not affected, a close frees a slot', async () => {
    const rejected = async (): Promise<number> =>
      kind === 'waitfree' ? familyValue(parseExposition((await target.metrics()) ?? ''), 'waitfree_net_connections_rejected_total') : 0;
    const rejected_before = await rejected();
    // One after another: the server must have counted each before the next (a readiness probe
    // may still hold a slot for a moment: sessionWithin retries).
    for (let i = 0; i < MAX; i++) sessions.push(await sessionWithin(target.port, SESSION_WAIT_MS));

    expect(await openSession(target.port)).toBe('refused');
    // A four-letter connection from the same IP is a connection too: closed unanswered.
    expect(await fourLetterRaw(target.port, 'ruok')).toEqual({ text: '', closed_by_server: true });
    // The sessions already open are served.
    for (const s of sessions) expect(await s.alive()).toBe(true);

    // Another client IP has its own count.
    const other_ip = await openSession(target.port, '127.0.0.2');
    expect(typeof other_ip === 'string' ? other_ip : 'session').toBe('session');
    if (typeof other_ip !== 'string') sessions.push(other_ip);

    // Closing one of the three gives its slot back, and only one.
    sessions.shift()?.destroy();
    sessions.push(await sessionWithin(target.port, SESSION_WAIT_MS));
    expect(await openSession(target.port)).toBe('refused');
    for (const s of sessions) expect(await s.alive()).toBe(true);

    if (kind === 'waitfree') expect((await rejected()) - rejected_before).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
