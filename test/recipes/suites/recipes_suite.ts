// Every recipe against a live server, with its failure cases: declared once, run against waitfree
// (npm test) and Apache ZooKeeper 3.8 (npm run test:interop). Session expiry is forced by putting
// a holder's client behind a proxy and making its server unreachable.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient, type ClientOptions } from '../../../src/client/index.js';
import {
  Barrier,
  DistributedQueue,
  DoubleBarrier,
  GroupMember,
  groupMembers,
  LeaderLatch,
  LeaderSelector,
  Lock,
  NodeCache,
  ReadWriteLock,
  Semaphore,
  ServiceDiscovery,
  SharedCounter,
  TreeCache,
  watchMembers,
  type LockLease,
  type TreeCacheEvent,
} from '../../../src/recipes/index.js';
import { FaultProxy } from '../../client/support/fault_proxy.js';
import { eventually, SHORT_SESSION_TIMEOUT_MS, sleep, TestClients, type Target } from '../../client/support/targets.js';
import { fourLetter } from '../../support/servers.js';

const CANDIDATE = fileURLToPath(new URL('../fixtures/candidate.mjs', import.meta.url));

/** `wchp` output -> path -> number of sessions watching it. */
async function watchersByPath(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let current: string | null = null;
  for (const line of (await fourLetter(port, 'wchp')).split('\n')) {
    if (line.startsWith('/')) {
      current = line.trim();
      out.set(current, 0);
    } else if (current !== null && /^\s+0x[0-9a-f]+/i.test(line)) {
      out.set(current, out.get(current)! + 1);
    }
  }
  return out;
}

export function defineRecipesSuite(label: string, start: () => Promise<Target>): void {
  describe(`recipes vs ${label}`, () => {
    let target: Target;
    let t: TestClients;
    let proxies: FaultProxy[] = [];
    beforeAll(async () => {
      target = await start();
    });
    afterAll(async () => {
      await target?.stop();
    });
    afterEach(async () => {
      await t?.closeAll();
      await Promise.all(proxies.map((p) => p.close()));
      proxies = [];
    });
    const clients = (): TestClients => (t = new TestClients(target, 'rcp'));
    /** A client with a short session behind a proxy; `cut()` makes its server unreachable. */
    const doomed = async (c: TestClients, opts: ClientOptions = {}): Promise<{ zk: ZooKeeperClient; cut: () => Promise<void> }> => {
      const p = await FaultProxy.start(target.port);
      proxies.push(p);
      await c.client();
      const zk = await c.raw({ sessionTimeout_ms: SHORT_SESSION_TIMEOUT_MS, ...opts }, `${p.connectString}${c.ns}`);
      return { zk, cut: () => p.refuse() };
    };

    describe('Lock', () => {
      it('excludes, hands over in line order, and fencing tokens grow with every holder', async () => {
        const c = clients();
        const zks = await Promise.all([0, 1, 2, 3, 4].map(() => c.client()));
        let inside = 0;
        let max_inside = 0;
        const tokens: number[] = [];
        await Promise.all(
          zks.map(async (zk) => {
            const lock = new Lock(zk, '/lock');
            for (let i = 0; i < 3; i++) {
              const lease = await lock.acquire();
              inside++;
              max_inside = Math.max(max_inside, inside);
              tokens.push(lease.fencingToken);
              await sleep(1);
              inside--;
              await lease.release();
            }
          }),
        );
        expect(max_inside).toBe(1);
        expect(tokens).toHaveLength(15);
        expect([...tokens].sort((a, b) => a - b)).toEqual(tokens);
        expect(new Set(tokens).size).toBe(15);
        expect(await new Lock(zks[0]!, '/lock').participants()).toEqual([]);
      });

      it('tryAcquire does not wait; an aborted or timed-out acquire leaves the line', async () => {
        const c = clients();
        const [a, b] = [await c.client(), await c.client()];
        const held = await new Lock(a, '/try').acquire();
        const lock_b = new Lock(b, '/try');
        expect(await lock_b.tryAcquire()).toBeNull();
        await expect(lock_b.acquire({ timeout_ms: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
        const ac = new AbortController();
        const waiting = lock_b.acquire({ signal: ac.signal });
        await eventually('b in line', async () => (await lock_b.participants()).length === 2);
        ac.abort(new Error('no longer needed'));
        await expect(waiting).rejects.toThrow('no longer needed');
        await eventually('b left the line', async () => (await lock_b.participants()).length === 1);
        await held.release();
        const mine = await lock_b.tryAcquire();
        expect(mine?.isHeld()).toBe(true);
        await mine?.release();
      });

      it("the holder's session expires: the holder is told, the next waiter gets the lock", async () => {
        const c = clients();
        const holder = await doomed(c);
        const waiter = await c.client();
        const lease = await new Lock(holder.zk, '/exp').acquire();
        const states: string[] = [];
        lease.onChange((s) => states.push(s));
        const next = new Lock(waiter, '/exp').acquire();
        await holder.cut();
        expect(await lease.lost).toBe('session_expired');
        expect(lease.isHeld()).toBe(false);
        expect(states).toEqual(['suspended', 'lost']);
        const got = await next;
        expect(got.isHeld()).toBe(true);
        expect(got.fencingToken).toBeGreaterThan(lease.fencingToken);
        await got.release();
      });

      it('100 contending waiters take the lock in line order, each watching one node', async () => {
        const c = clients();
        const zks = await Promise.all(Array.from({ length: 10 }, () => c.client()));
        const holder = await c.client(); // its own session, so its node's watchers are countable
        const first = await new Lock(holder, '/herd').acquire();
        const order: string[] = [];
        const waiters = Array.from({ length: 100 }, (_, i) =>
          new Lock(zks[i % 10]!, '/herd').acquire().then(async (lease: LockLease) => {
            order.push(lease.path);
            await lease.release();
          }),
        );
        for (const w of waiters) w.catch(() => undefined); // reported by Promise.all below
        const lock = new Lock(zks[0]!, '/herd');
        await eventually('all 100 in line', async () => (await lock.participants()).length === 101, 30_000);
        const line = await lock.participants();
        await eventually('every waiter watches its predecessor', async () => {
          const w = await watchersByPath(target.port);
          return line.slice(0, 100).every((p) => (w.get(`${c.ns}${p}`) ?? 0) >= 1);
        });
        const watchers = await watchersByPath(target.port);
        // Each contender node is watched by its successor only (the holder's node also by the
        // holder itself, which watches its own node to notice losing it); the directory by nobody.
        expect(watchers.get(`${c.ns}/herd`) ?? 0).toBe(0);
        expect(watchers.get(`${c.ns}${line[0]}`)).toBe(2);
        for (const p of line.slice(1, 100)) expect(watchers.get(`${c.ns}${p}`)).toBe(1);
        expect(watchers.get(`${c.ns}${line[100]}`) ?? 0).toBe(0);
        await first.release();
        await Promise.all(waiters);
        expect(order).toEqual(line.slice(1));
      });
    });

    describe('ReadWriteLock', () => {
      it('readers share; a writer waits for them; readers behind a waiting writer wait for it', async () => {
        const c = clients();
        const [a, b, w, late] = [await c.client(), await c.client(), await c.client(), await c.client()];
        const r1 = await new ReadWriteLock(a, '/rw').readLock.acquire();
        const r2 = await new ReadWriteLock(b, '/rw').readLock.acquire();
        let writer: LockLease | null = null;
        const writing = new ReadWriteLock(w, '/rw').writeLock.acquire().then((l) => (writer = l));
        await eventually('writer queued', async () => (await a.getChildren('/rw')).length === 3);
        let late_reader: LockLease | null = null;
        const reading = new ReadWriteLock(late, '/rw').readLock.acquire().then((l) => (late_reader = l));
        await eventually('late reader queued', async () => (await a.getChildren('/rw')).length === 4);
        await sleep(100);
        expect(writer).toBeNull();
        expect(late_reader).toBeNull();
        await r1.release();
        await sleep(50);
        expect(writer).toBeNull();
        await r2.release();
        await writing;
        expect(writer).not.toBeNull();
        expect(late_reader).toBeNull();
        await writer!.release();
        await reading;
        expect(late_reader!.isHeld()).toBe(true);
        await late_reader!.release();
      });
    });

    describe('Semaphore', () => {
      it('grants at most N leases; an expired holder gives its lease back', async () => {
        const c = clients();
        const holder = await doomed(c);
        const [b, d] = [await c.client(), await c.client()];
        const l1 = await new Semaphore(holder.zk, '/sem', 2).acquire();
        const l2 = await new Semaphore(b, '/sem', 2).acquire();
        const sem = new Semaphore(d, '/sem', 2);
        let third: LockLease | null = null;
        const waiting = sem.acquire().then((l) => (third = l));
        await sleep(200);
        expect(third).toBeNull();
        expect(await sem.leaseCount()).toBe(3); // the waiter's lease node exists, over the limit
        await holder.cut();
        expect(await l1.lost).toBe('session_expired');
        await waiting;
        expect(third!.isHeld()).toBe(true);
        expect(await sem.leaseCount()).toBe(2);
        await l2.release();
        await third!.release();
      });
    });

    describe('Leader election', () => {
      it('latch: one leader; when it withdraws the next candidate leads', async () => {
        const c = clients();
        const zks = [await c.client(), await c.client(), await c.client()];
        const latches = zks.map((zk, i) => new LeaderLatch(zk, '/election', `candidate-${i}`));
        for (const l of latches) await l.start();
        await latches[0]!.awaitLeadership({ signal: AbortSignal.timeout(10_000) });
        expect(latches.map((l) => l.hasLeadership())).toEqual([true, false, false]);
        expect(await latches[2]!.participants()).toEqual(['candidate-0', 'candidate-1', 'candidate-2']);
        await latches[0]!.close();
        await latches[1]!.awaitLeadership({ signal: AbortSignal.timeout(10_000) });
        expect(latches.map((l) => l.state)).toEqual(['closed', 'leader', 'follower']);
        expect(latches[1]!.fencingToken).toBeGreaterThan(0);
        await latches[1]!.close();
        await latches[2]!.awaitLeadership({ signal: AbortSignal.timeout(10_000) });
        await latches[2]!.close();
      });

      it("latch: the leader's session expires; it is told, and the next candidate leads", async () => {
        const c = clients();
        const leader = await doomed(c);
        const other = await c.client();
        const l1 = new LeaderLatch(leader.zk, '/election2', 'a');
        const l2 = new LeaderLatch(other, '/election2', 'b');
        await l1.start();
        await l1.awaitLeadership();
        await l2.start();
        const states: string[] = [];
        l1.onChange((s) => states.push(s));
        await leader.cut();
        await l2.awaitLeadership({ signal: AbortSignal.timeout(15_000) });
        expect(states).toEqual(['follower', 'lost']);
        expect(l1.hasLeadership()).toBe(false);
        await l2.close();
      });

      it("the leader's process dies: its session expires and a new leader is elected", async () => {
        const c = clients();
        const zk = await c.client();
        const child = spawn(process.execPath, [CANDIDATE, `${target.connectString}${c.ns}`, '/election3', String(SHORT_SESSION_TIMEOUT_MS)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        try {
          let out = '';
          child.stdout.on('data', (b: Buffer) => (out += b.toString()));
          await eventually('child process leads', () => out.includes('LEADER'), 20_000);
          const latch = new LeaderLatch(zk, '/election3', 'survivor');
          await latch.start();
          expect(latch.state).toBe('follower');
          expect(await latch.participants()).toEqual([`pid-${child.pid}`, 'survivor']);
          child.kill('SIGKILL');
          await latch.awaitLeadership({ signal: AbortSignal.timeout(20_000) });
          expect(await latch.participants()).toEqual(['survivor']);
          await latch.close();
        } finally {
          child.kill('SIGKILL');
        }
      });

      it('selector: one term at a time, fencing tokens grow, candidates requeue', async () => {
        const c = clients();
        const zks = [await c.client(), await c.client()];
        const terms: Array<{ who: number; token: number }> = [];
        let leading = 0;
        let overlap = false;
        const selectors = zks.map(
          (zk, who) =>
            new LeaderSelector(zk, '/selector', async ({ fencingToken }) => {
              leading++;
              if (leading > 1) overlap = true;
              terms.push({ who, token: fencingToken });
              await sleep(20);
              leading--;
            }),
        );
        for (const s of selectors) s.start();
        await eventually('six terms', () => terms.length >= 6);
        await Promise.all(selectors.map((s) => s.close()));
        expect(overlap).toBe(false);
        const tokens = terms.map((x) => x.token);
        expect([...tokens].sort((a, b) => a - b)).toEqual(tokens);
        expect(new Set(terms.map((x) => x.who))).toEqual(new Set([0, 1]));
      });

      it("selector: a leader whose session expires sees its term's signal abort", async () => {
        const c = clients();
        const leader = await doomed(c);
        const other = await c.client();
        let aborted: unknown = null;
        const started = new Promise<void>((resolve) => {
          const s = new LeaderSelector(leader.zk, '/selector2', async ({ signal }) => {
            resolve();
            await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
            aborted = signal.reason;
          });
          s.start();
        });
        await started;
        let second = false;
        const s2 = new LeaderSelector(other, '/selector2', async () => {
          second = true;
        }, { requeue: false });
        s2.start();
        await leader.cut();
        await eventually('the other candidate led', () => second);
        expect(String(aborted)).toMatch(/session_expired/);
        await s2.close();
      });
    });

    describe('Group membership', () => {
      it('members join and leave; watchers see each change; an expired member drops out and is told', async () => {
        const c = clients();
        const gone = await doomed(c);
        const [a, obs] = [await c.client(), await c.client()];
        const snapshots: string[][] = [];
        const ac = new AbortController();
        const watching = (async () => {
          try {
            for await (const m of watchMembers(obs, '/group', { signal: ac.signal })) snapshots.push([...m.keys()]);
          } catch {
            // aborted at the end
          }
        })();
        await eventually('first snapshot', () => snapshots.length >= 1);
        const ma = new GroupMember(a, '/group', 'alpha', 'A');
        const mg = new GroupMember(gone.zk, '/group', 'gamma', 'G');
        await ma.join();
        await mg.join();
        await eventually('both seen', () => snapshots.some((s) => s.join() === 'alpha,gamma'));
        expect((await groupMembers(obs, '/group')).get('alpha')?.toString()).toBe('A');
        await expect(new GroupMember(obs, '/group', 'alpha').join()).rejects.toMatchObject({ code: 'NODEEXISTS' });
        await gone.cut();
        expect(await mg.lost).toBe('session_expired');
        await eventually('gamma dropped', () => snapshots[snapshots.length - 1]!.join() === 'alpha');
        await ma.leave();
        await eventually('empty', () => snapshots[snapshots.length - 1]!.length === 0);
        ac.abort();
        await watching;
      });
    });

    describe('Barriers', () => {
      it('barrier holds waiters until removed', async () => {
        const c = clients();
        const [a, b] = [await c.client(), await c.client()];
        const barrier = new Barrier(a, '/gate');
        await barrier.set();
        let passed = false;
        const waiting = new Barrier(b, '/gate').wait().then(() => (passed = true));
        await sleep(100);
        expect(passed).toBe(false);
        await barrier.remove();
        await waiting;
        expect(passed).toBe(true);
        await new Barrier(b, '/gate').wait(); // down: returns at once
      });

      it('double barrier: nobody starts before all have entered, nobody finishes before all have left', async () => {
        const c = clients();
        const zks = [await c.client(), await c.client(), await c.client()];
        const log: string[] = [];
        const run = async (i: number, delay_ms: number) => {
          const b = new DoubleBarrier(zks[i]!, '/double', 3, `m${i}`);
          await sleep(delay_ms);
          log.push(`enter-start ${i}`);
          await b.enter({ timeout_ms: 15_000 });
          log.push(`entered ${i}`);
          await sleep(delay_ms);
          log.push(`leave-start ${i}`);
          await b.leave({ timeout_ms: 15_000 });
          log.push(`left ${i}`);
        };
        await Promise.all([run(0, 0), run(1, 50), run(2, 150)]);
        const last_enter_start = Math.max(...[0, 1, 2].map((i) => log.indexOf(`enter-start ${i}`)));
        const first_entered = Math.min(...[0, 1, 2].map((i) => log.indexOf(`entered ${i}`)));
        expect(first_entered).toBeGreaterThan(last_enter_start);
        const last_leave_start = Math.max(...[0, 1, 2].map((i) => log.indexOf(`leave-start ${i}`)));
        const first_left = Math.min(...[0, 1, 2].map((i) => log.indexOf(`left ${i}`)));
        expect(first_left).toBeGreaterThan(last_leave_start);
      });
    });

    describe('DistributedQueue', () => {
      it('FIFO; take waits for an item; concurrent consumers get each item exactly once', async () => {
        const c = clients();
        const [p, q1, q2] = [await c.client(), await c.client(), await c.client()];
        const producer = new DistributedQueue(p, '/queue');
        for (const x of ['a', 'b', 'c']) await producer.offer(x);
        expect((await producer.peek())?.toString()).toBe('a');
        expect((await new DistributedQueue(q1, '/queue').poll())?.toString()).toBe('a');
        expect((await new DistributedQueue(q1, '/queue').take()).toString()).toBe('b');
        expect((await new DistributedQueue(q1, '/queue').poll())?.toString()).toBe('c');
        expect(await producer.poll()).toBeNull();
        const waiting = new DistributedQueue(q2, '/queue').take({ timeout_ms: 10_000 });
        await sleep(50);
        await producer.offer('late');
        expect((await waiting).toString()).toBe('late');
        const items = Array.from({ length: 40 }, (_, i) => `item-${i}`);
        const consumers = [q1, q2].map(async (zk) => {
          const q = new DistributedQueue(zk, '/queue');
          const got: string[] = [];
          for (let x = await q.poll(); x !== null || got.length === 0; x = await q.poll()) if (x !== null) got.push(x.toString());
          return got;
        });
        for (const it of items) await producer.offer(it);
        const taken = (await Promise.all(consumers)).flat();
        for (let x = await producer.poll(); x !== null; x = await producer.poll()) taken.push(x.toString());
        expect(taken.sort()).toEqual([...items].sort());
      });
    });

    describe('SharedCounter', () => {
      it('concurrent increments from several sessions all count (version compare-and-set)', async () => {
        const c = clients();
        const zks = await Promise.all([0, 1, 2, 3, 4].map(() => c.client()));
        await Promise.all(
          zks.map(async (zk) => {
            const counter = new SharedCounter(zk, '/counter');
            for (let i = 0; i < 20; i++) await counter.increment();
          }),
        );
        const counter = new SharedCounter(zks[0]!, '/counter');
        expect((await counter.get()).value).toBe(100);
        const { version } = await counter.get();
        expect(await counter.trySet(7, version + 1)).toBe(false);
        expect(await counter.trySet(7, version)).toBe(true);
        expect(await counter.add(-2)).toBe(5);
      });
    });

    describe('Caches', () => {
      it('node cache follows create, change and delete, and catches up after a reconnect', async () => {
        const c = clients();
        const p = await FaultProxy.start(target.port);
        proxies.push(p);
        const writer = await c.client();
        const zk = await c.raw({}, `${p.connectString}${c.ns}`);
        const cache = new NodeCache(zk, '/cfg');
        const seen: Array<string | null> = [];
        cache.listen((v) => seen.push(v === null ? null : (v.data?.toString() ?? '')));
        await cache.start();
        expect(cache.current).toBeNull();
        await writer.create('/cfg', 'v1');
        await eventually('v1 cached', () => cache.current?.data?.toString() === 'v1');
        await writer.setData('/cfg', 'v2');
        await eventually('v2 cached', () => cache.current?.data?.toString() === 'v2');
        await writer.delete('/cfg');
        await eventually('deletion cached', () => seen[seen.length - 1] === null);
        // Values converge; quick successive changes may be seen as one (each event re-reads).
        expect(seen).toEqual(['v1', 'v2', null]);
        // A change made while the cache's client is cut off is picked up after it reconnects.
        p.mode = 'freeze';
        await writer.create('/cfg', 'while-away');
        p.kill();
        p.mode = 'pass';
        await eventually('caught up', () => cache.current?.data?.toString() === 'while-away');
        await cache.close();
      });

      it('tree cache mirrors a subtree: nested adds, updates, removals, and catch-up after a reconnect', async () => {
        const c = clients();
        const p = await FaultProxy.start(target.port);
        proxies.push(p);
        const writer = await c.client();
        await writer.mkdirp('/app/x');
        await writer.setData('/app/x', 'x0');
        const zk = await c.raw({}, `${p.connectString}${c.ns}`);
        const cache = new TreeCache(zk, '/app');
        const events: TreeCacheEvent[] = [];
        cache.listen((e) => events.push(e));
        await cache.start();
        expect(cache.paths()).toEqual(['/app', '/app/x']);
        await writer.create('/app/y', 'y0');
        await writer.create('/app/y/z', 'z0');
        await eventually('nested node cached', () => cache.get('/app/y/z')?.data?.toString() === 'z0');
        await writer.setData('/app/x', 'x1');
        await writer.delete('/app/y/z');
        await eventually('tree caught up', () => cache.get('/app/x')?.data?.toString() === 'x1' && cache.get('/app/y/z') === undefined && cache.get('/app/y') !== undefined);
        expect(cache.children('/app')).toEqual(['x', 'y']);
        expect(events.filter((e) => e.path === '/app/y/z').map((e) => e.type)).toEqual(['added', 'removed']);
        p.mode = 'freeze';
        await writer.create('/app/w', 'w0');
        await writer.delete('/app/x');
        p.kill();
        p.mode = 'pass';
        await eventually('reloaded after reconnect', () => cache.get('/app/w') !== undefined && cache.get('/app/x') === undefined);
        expect(cache.paths()).toEqual(['/app', '/app/w', '/app/y']);
        expect(cache.errors).toEqual([]);
        await cache.close();
      });
    });

    describe('ServiceDiscovery', () => {
      it('registers instances, queries them, follows changes in a cache, drops an expired instance', async () => {
        const c = clients();
        const gone = await doomed(c);
        const [a, client] = [await c.client(), await c.client()];
        const reg_a = await new ServiceDiscovery(a, '/services').register({ name: 'api', id: 'a', address: '10.0.0.1', port: 8080, payload: { zone: 'x' } });
        const reg_g = await new ServiceDiscovery(gone.zk, '/services').register({ name: 'api', id: 'g', address: '10.0.0.2', port: 8080 });
        const discovery = new ServiceDiscovery(client, '/services');
        expect(await discovery.queryForNames()).toEqual(['api']);
        expect((await discovery.queryForInstances('api')).map((i) => i.id)).toEqual(['a', 'g']);
        expect(await discovery.queryForInstance('api', 'a')).toMatchObject({ address: '10.0.0.1', port: 8080, payload: { zone: 'x' } });
        const provider = discovery.provider('api');
        await provider.start();
        const picks = new Set([provider.getInstance()?.id, provider.getInstance()?.id]);
        expect(picks).toEqual(new Set(['a', 'g']));
        await gone.cut();
        expect(await reg_g.lost).toBe('session_expired');
        await eventually('expired instance dropped', () => provider.getAllInstances().map((i) => i.id).join() === 'a');
        await reg_a.unregister();
        await eventually('no instance', () => provider.getInstance() === null);
        await provider.close();
      });
    });
  });
}
