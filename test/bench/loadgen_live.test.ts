import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real run of the load generator (worker threads, sessions, histograms, /proc CPU) against a
// real waitfree server on loopback. Loads compiled code: the threads need bench/build/*.js.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type Launch = typeof import('../../src/check/launch.js');
type Driver = typeof import('../../bench/src/driver.js');
type KeySpace = typeof import('../../bench/src/key_space.js');

let launch: Launch;
let driver: Driver;
let keys: KeySpace;
let server: Awaited<ReturnType<Launch['launchWaitfree']>>;

beforeAll(async () => {
  // dist/ and bench/build/ are built by `npm test` before vitest starts; never rebuilt here (other files use it concurrently).
  launch = (await import(`${ROOT}/dist/check/launch.js`)) as Launch;
  driver = (await import(`${ROOT}/bench/build/driver.js`)) as Driver;
  keys = (await import(`${ROOT}/bench/build/key_space.js`)) as KeySpace;
  server = await launch.launchWaitfree({ heap_mb: 256 });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function load(mode: 'closed' | 'create_sync' | 'phases', read_pct: number, root: string) {
  const endpoints = [{ host: '127.0.0.1', port: server.port }];
  const plan = { mode, read_fraction: read_pct / 100, outstanding_max: 8, value_bytes: 1024, key_count: 20, root, rate_per_s: 0 };
  await keys.createKeySpace(endpoints[0]!, root, mode === 'closed' ? plan.key_count : 0, plan.value_bytes);
  const clients = mode === 'phases' ? 1 : 3;
  try {
    return await driver.runLoad({
      endpoints, plan, clients, threads: 2, warmup_ms: 200, measure_ms: 800, sample_ms: 100,
      session_timeout_ms: 10_000, seed: 3, server_pids: [server.pid], label: 'test', progress: null,
    });
  } finally {
    await keys.removeKeySpace(endpoints[0]!, root);
  }
}

describe('load generator against waitfree', () => {
  it('a read-only run sends only getData, all answered without error, and charges the server CPU', async () => {
    const r = await load('closed', 100, '/t-reads');
    expect(r.by_kind.read.count).toBeGreaterThan(0);
    expect(r.by_kind.write.count).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.ops).toBe(r.by_kind.read.count);
    expect(r.latency.count).toBe(r.ops);
    expect(r.latency.p50_us).toBeLessThanOrEqual(r.latency.p99_us);
    expect(r.server_cpu_s).not.toBeNull();
    expect(r.timeline.length).toBeGreaterThan(0);
  }, 60_000);

  it('a mixed run does both kinds; a Table 2 run creates and deletes its nodes', async () => {
    const mixed = await load('closed', 50, '/t-mixed');
    expect(mixed.by_kind.read.count).toBeGreaterThan(0);
    expect(mixed.by_kind.write.count).toBeGreaterThan(0);
    expect(mixed.errors).toBe(0);
    const t2 = await load('create_sync', 0, '/t-create');
    expect(t2.by_kind.create.count).toBeGreaterThan(0);
    expect(t2.ops).toBe(t2.by_kind.create.count);
    expect(Math.abs(t2.by_kind.create.count - t2.by_kind.delete.count)).toBeLessThanOrEqual(3);
    expect(t2.errors).toBe(0);
  }, 60_000);

  it("load_gen's phases run create, set, get, delete of every key in turn, without errors", async () => {
    const r = await load('phases', 0, '/t-phases');
    const kinds = r.phases.map((p) => p.kind);
    expect(kinds.length).toBeGreaterThan(4);
    const order = ['create', 'write', 'read', 'delete'];
    kinds.forEach((k, i) => i > 0 && expect(order.indexOf(k)).toBe((order.indexOf(kinds[i - 1]!) + 1) % 4));
    expect(r.phases.every((p) => p.count === 20 && p.end_ms > p.start_ms)).toBe(true);
    expect(r.errors).toBe(0);
  }, 60_000);
});
