// The client against real 3-server ensembles, Apache ZooKeeper 3.8 and waitfree, with the same
// expectations: the server a client talks to dies (SIGKILL) and the client carries its session to
// another member, with its ephemeral nodes, watches and in-flight reads; the leader dies, a new
// one is elected, and sessions and lock ownership survive. Every member shows the ensemble in
// /zookeeper/config (getConfig), as ZooKeeper writes it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient, type SessionEvent, type WatchEvent } from '../../src/client/index.js';
import { Lock } from '../../src/recipes/index.js';
import { startEnsemble, startWaitfreeEnsemble, waitServing, type Ensemble } from '../client/support/ensemble.js';
import { eventually, nextValue } from '../client/support/targets.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);

const SESSION_MS = 10_000;

const KINDS = [
  { name: 'Apache ZooKeeper', start: startEnsemble, skip: missing.length > 0 },
  { name: 'waitfree', start: startWaitfreeEnsemble, skip: false },
];

describe.each(KINDS)('client vs a 3-server $name ensemble', ({ start, skip }) => {
  if (skip) return;
  let ensemble: Ensemble;
  const clients: ZooKeeperClient[] = [];
  const connect = async (connectString: string, shuffleHosts = true): Promise<ZooKeeperClient> => {
    const c = await ZooKeeperClient.connect(connectString, { sessionTimeout_ms: SESSION_MS, shuffleHosts });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    ensemble = await start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await ensemble?.stopAll();
  });

  it('getConfig: /zookeeper/config on every member lists the ensemble, server.N=host:quorumPort:electionPort:participant, version=0', async () => {
    const texts: string[] = [];
    for (const m of ensemble.members) {
      const c = await connect(m.connectString, false);
      const { data, stat } = await c.getData('/zookeeper/config');
      texts.push(data?.toString() ?? '');
      // Set locally by each server (setData with version -1 at zxid 0), never by a txn.
      expect({ version: stat.version, aversion: stat.aversion, mzxid: Number(stat.mzxid), dataLength: stat.dataLength }).toEqual({
        version: -1,
        aversion: -1,
        mzxid: 0,
        dataLength: Buffer.byteLength(texts.at(-1)!),
      });
    }
    expect(new Set(texts).size).toBe(1);
    // The client part shows when the server line has one (waitfree's launcher writes it; this
    // ZooKeeper ensemble's zoo.cfg has a separate clientPort).
    const member = (sid: number): string => `server\\.${sid}=127\\.0\\.0\\.1:\\d+:\\d+:participant(;127\\.0\\.0\\.1:\\d+)?`;
    expect(texts[0]).toMatch(new RegExp(`^${member(1)}\\n${member(2)}\\n${member(3)}\\nversion=0$`));
  });

  it('a client whose server dies continues on another member with the same session', async () => {
    const [victim] = await ensemble.followers();
    expect(victim).toBeDefined();
    const others = ensemble.members.filter((m) => m !== victim);
    // The victim first, so the client is connected to it.
    const zk = await connect([victim!, ...others].map((m) => m.connectString).join(','), false);
    const observer = await connect(others.map((m) => m.connectString).join(','));
    expect(zk.host).toBe(victim!.connectString);
    const session = zk.sessionId;
    const states: SessionEvent[] = [];
    zk.on('state', (e) => states.push(e));

    await zk.create('/failover', 'v0');
    await zk.create('/failover/mine', null, { mode: 'ephemeral' });
    const once = nextValue<WatchEvent>();
    await zk.getData('/failover', { watch: once.listener });
    const stream = await zk.watch('/failover', { recursive: true });

    await victim!.kill();
    const read = zk.getData('/failover'); // issued while the client finds another server
    expect((await read).data?.toString()).toBe('v0');
    expect(zk.state).toBe('connected');
    expect(zk.sessionId).toBe(session);
    expect(zk.host).not.toBe(victim!.connectString);
    expect(states.map((s) => `${s.state}:${s.reason}`)).toEqual(['disconnected:connection_lost', 'connected:session_resumed']);

    expect((await observer.exists('/failover/mine'))?.ephemeralOwner).toBe(session);
    await observer.setData('/failover', 'v1');
    expect(await once.value).toMatchObject({ type: 'NodeDataChanged', path: '/failover' });
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'NodeDataChanged', path: '/failover' });
    await stream.close();
    await victim!.restart();
    await waitServing(ensemble.members, 60_000);
    expect(ensemble.members.every((m) => m.alive())).toBe(true);
  });

  it('the leader dies, a new leader is elected, sessions and lock ownership survive', async () => {
    const leader = await ensemble.leader();
    const live = ensemble.members.filter((m) => m.alive());
    const zk = await connect(live.map((m) => m.connectString).join(','));
    const session = zk.sessionId;
    const lock = new Lock(zk, '/ensemble-lock');
    const lease = await lock.acquire();
    await leader.kill();
    await waitServing(ensemble.members, 60_000);
    const next = await ensemble.leader();
    expect(next.id).not.toBe(leader.id);
    await zk.waitForState(['connected'], { timeout_ms: SESSION_MS });
    await eventually('write accepted by the new leader', async () => {
      try {
        await zk.create(`/after-election-${Date.now()}`);
        return true;
      } catch {
        return false;
      }
    }, 30_000);
    expect(zk.sessionId).toBe(session);
    expect(lease.isHeld()).toBe(true);
    expect((await zk.exists(lease.path))?.ephemeralOwner).toBe(session);
    await lease.release();
  });
});
