// Session lifecycle against a live server, with faults injected by proxies in front of it: two
// proxies to one server stand for two hosts of an ensemble (the session lives on the server, so
// moving between them is what moving between ensemble members looks like to a client).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CREATOR_ALL_ACL, ZooKeeperClient, ZooKeeperError, type SessionEvent, type WatchEvent } from '../../../src/client/index.js';
import { FaultProxy } from '../support/fault_proxy.js';
import { eventually, nextValue, SESSION_TIMEOUT_MS, SHORT_SESSION_TIMEOUT_MS, TestClients, type Target } from '../support/targets.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ZooKeeperError) return e.code;
    throw e;
  }
  throw new Error('expected the call to fail');
}

export function defineSessionSuite(label: string, start: () => Promise<Target>): void {
  describe(`client sessions vs ${label}`, () => {
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
    const clients = (): TestClients => (t = new TestClients(target, 'sess'));
    const proxy = async (): Promise<FaultProxy> => {
      const p = await FaultProxy.start(target.port);
      proxies.push(p);
      return p;
    };
    /** A client on two proxies (tried in order) with a chroot on the test namespace. */
    const twoHosts = async (c: TestClients, a: FaultProxy, b: FaultProxy, opts = {}): Promise<ZooKeeperClient> => {
      await c.client();
      return c.raw({ shuffleHosts: false, ...opts }, `${a.connectString},${b.connectString}${c.ns}`);
    };
    const recordStates = (zk: ZooKeeperClient): SessionEvent[] => {
      const seen: SessionEvent[] = [];
      zk.on('state', (e) => seen.push(e));
      return seen;
    };

    it('reports connecting -> connected -> closed, with the session id', async () => {
      const zk = new ZooKeeperClient(target.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS });
      expect(zk.state).toBe('connecting');
      const states = recordStates(zk);
      await zk.ready();
      expect(zk.state).toBe('connected');
      expect(zk.sessionId).not.toBe(0n);
      expect(zk.negotiatedTimeout_ms).toBe(SESSION_TIMEOUT_MS);
      await zk.close();
      expect(states.map((s) => `${s.previous}->${s.state}:${s.reason}`)).toEqual([
        'connecting->connected:session_established',
        'connected->closed:closed_by_client',
      ]);
    });

    it('moves to another host when its server goes away, keeping the session, ephemerals, watches and auth', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      const other = await c.client();
      const states = recordStates(zk);
      const session = zk.sessionId;
      await zk.addAuth('digest', 'bob:pw');
      await zk.create('/mine', 'x', { mode: 'ephemeral' });
      await zk.create('/secret', 's', { acl: CREATOR_ALL_ACL });
      await other.create('/watched', '0');
      const once = nextValue<WatchEvent>();
      const persistent: WatchEvent[] = [];
      await zk.getData('/watched', { watch: once.listener });
      await zk.addWatch('/watched', (e) => persistent.push(e));
      expect(zk.host).toBe(a.connectString);

      await a.refuse(); // host A is gone: connection dropped, connects refused
      await eventually('reconnected', () => states.some((s) => s.state === 'connected'), SESSION_TIMEOUT_MS);
      expect(zk.host).toBe(b.connectString);
      expect(zk.sessionId).toBe(session);
      expect(states.map((s) => `${s.state}:${s.reason}`)).toEqual(['disconnected:connection_lost', 'connected:session_resumed']);

      expect((await other.exists('/mine'))?.ephemeralOwner).toBe(session);
      expect((await zk.getData('/secret')).data?.toString()).toBe('s'); // auth re-sent: not NOAUTH
      expect(await codeOf(other.getData('/secret'))).toBe('NOAUTH');
      await other.setData('/watched', '1');
      expect(await once.value).toMatchObject({ type: 'NodeDataChanged', path: '/watched' });
      await eventually('persistent watch fired after failover', () => persistent.length === 1);
    });

    it('retries reads that were in flight when the connection broke', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      await zk.create('/r', 'value');
      a.mode = 'drop_replies';
      const read = zk.getData('/r');
      await new Promise((r) => setTimeout(r, 100));
      a.kill();
      await a.refuse();
      expect((await read).data?.toString()).toBe('value');
      expect(zk.state).toBe('connected');
    });

    it('a protected sequential create interrupted after the server applied it is found, not done twice', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      // One outstanding request: the lookup after the loss must not wait behind the create itself.
      const zk = await twoHosts(c, a, b, { maxOutstanding: 1 });
      const other = await c.client();
      await zk.create('/locks');
      a.mode = 'drop_replies';
      const created = zk.create('/locks/lock-', 'me', { mode: 'ephemeralSequential', protected: true });
      await eventually('node created on the server', async () => (await other.getChildren('/locks')).length === 1);
      a.kill();
      await a.refuse();
      const path = await created;
      const children = await other.getChildren('/locks');
      expect(children).toHaveLength(1);
      expect(path).toBe(`/locks/${children[0]}`);
      expect(children[0]).toMatch(/^_c_[0-9a-f-]{36}-lock-\d{10}$/);
    });

    it('an unprotected sequential create interrupted by a connection loss is never retried', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      const other = await c.client();
      await zk.create('/q');
      a.mode = 'drop_replies';
      const created = zk.create('/q/item-', null, { mode: 'persistentSequential' });
      await eventually('node created on the server', async () => (await other.getChildren('/q')).length === 1);
      a.kill();
      expect(await codeOf(created)).toBe('CONNECTIONLOSS');
      await zk.waitForState(['connected']);
      expect(await other.getChildren('/q')).toHaveLength(1);
    });

    it('a re-sent create, versioned setData and versioned delete find out that the first attempt applied', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      const other = await c.client();
      const interrupted = async <T>(call: () => Promise<T>, applied: () => Promise<boolean>): Promise<T> => {
        await zk.waitForState(['connected']);
        const first = zk.host === a.connectString ? a : b;
        first.mode = 'drop_replies';
        const p = call();
        await eventually('applied on the server', applied);
        first.kill();
        first.mode = 'pass';
        return p;
      };
      expect(await interrupted(() => zk.create('/eph', 'e', { mode: 'ephemeral' }), async () => (await other.exists('/eph')) !== null)).toBe('/eph');
      expect(await interrupted(() => zk.create('/per', 'p'), async () => (await other.exists('/per')) !== null)).toBe('/per');
      const stat = await interrupted(() => zk.setData('/per', 'p2', 0), async () => (await other.exists('/per'))?.version === 1);
      expect(stat.version).toBe(1);
      await interrupted(() => zk.delete('/per', 1), async () => (await other.exists('/per')) === null);
      await zk.create('/per2', 'a');
      const unconditional = interrupted(() => zk.setData('/per2', 'b'), async () => (await other.exists('/per2'))?.version === 1);
      expect(await codeOf(unconditional)).toBe('CONNECTIONLOSS');
    });

    it('per-call timeout: REQUESTTIMEOUT while no reply comes; the client recovers', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      await zk.create('/t', 'x');
      a.mode = 'drop_replies';
      expect(await codeOf(zk.getData('/t', { timeout_ms: 200 }))).toBe('REQUESTTIMEOUT');
      a.mode = 'pass';
      expect((await zk.getData('/t')).data?.toString()).toBe('x');
    });

    it('requests made while disconnected wait for the reconnect; an aborted one is never sent', async () => {
      const c = clients();
      const [a, b] = [await proxy(), await proxy()];
      const zk = await twoHosts(c, a, b);
      const other = await c.client();
      await a.refuse();
      await b.refuse();
      await zk.waitForState(['disconnected']);
      const ac = new AbortController();
      const aborted = zk.create('/aborted', null, { signal: ac.signal });
      const waiting = zk.create('/waited', 'w');
      ac.abort(new Error('changed my mind'));
      await expect(aborted).rejects.toThrow('changed my mind');
      await b.accept();
      expect(await waiting).toBe('/waited');
      expect(await other.exists('/aborted')).toBeNull();
    });

    it('expires when no server is reachable for a session timeout: says so, ephemerals gone, no new session', async () => {
      const c = clients();
      const a = await proxy();
      await c.client();
      const zk = await c.raw({ sessionTimeout_ms: SHORT_SESSION_TIMEOUT_MS }, `${a.connectString}${c.ns}`);
      const other = await c.client();
      const states = recordStates(zk);
      const session = zk.sessionId;
      await zk.create('/gone', null, { mode: 'ephemeral' });
      await a.refuse();
      await zk.waitForState(['expired'], { timeout_ms: 10_000 });
      expect(states.map((s) => `${s.state}:${s.reason}`)).toEqual(['disconnected:connection_lost', 'expired:unreachable_for_session_timeout']);
      await eventually('the server expired the session too', async () => (await other.exists('/gone')) === null);
      await a.accept();
      const accepted = a.accepted;
      expect(await codeOf(zk.getData('/'))).toBe('SESSIONEXPIRED');
      await new Promise((r) => setTimeout(r, 300));
      expect(a.accepted).toBe(accepted); // it does not come back with a new session
      expect(zk.sessionId).toBe(session);
      expect(zk.state).toBe('expired');
    });

    it('hears from the server that its session expired when it reconnects, and stops there', async () => {
      const c = clients();
      const a = await proxy();
      await c.client();
      const zk = await c.raw({ expireWhenUnreachable: false }, `${a.connectString}${c.ns}`);
      const states = recordStates(zk);
      // Cut the original handle off first: with both handles connected, the server moves the
      // session back and forth between them (each reattach closes the other's connection), and
      // which connection a close reaches is a race.
      await a.refuse();
      // Another handle on the same session closes it: the session is over on the server.
      const twin = await ZooKeeperClient.connect(target.connectString, { session: { id: zk.sessionId, passwd: zk.sessionPasswd } });
      expect(twin.sessionId).toBe(zk.sessionId);
      await twin.close();
      await a.accept(); // the original handle reconnects and learns the news
      await zk.waitForState(['expired'], { timeout_ms: 10_000 });
      expect(states[states.length - 1]).toMatchObject({ state: 'expired', reason: 'server_said_expired' });
      expect(await codeOf(zk.exists('/'))).toBe('SESSIONEXPIRED');
    });

    it('a persistent watch stream ends with SESSIONEXPIRED when the session is lost', async () => {
      const c = clients();
      const a = await proxy();
      await c.client();
      const zk = await c.raw({ sessionTimeout_ms: SHORT_SESSION_TIMEOUT_MS }, `${a.connectString}${c.ns}`);
      const stream = await zk.watch('/', { recursive: true });
      await a.refuse();
      const ended = await (async () => {
        try {
          for await (const _ of stream) void _;
          return 'ended cleanly';
        } catch (e) {
          return e instanceof ZooKeeperError ? e.code : String(e);
        }
      })();
      expect(ended).toBe('SESSIONEXPIRED');
    });
  });
}
