// test/support/ensemble.ts, short of starting servers (the replication wiring is not there yet):
// the ports it picks, the files it writes, and its srvr polling against a stand-in server.

import { rmSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort } from '../../src/check/launch.js';
import { allocatePorts, planEnsemble, pollSrvr, srvrAt } from '../support/ensemble.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A stand-in for a member: answers every connection with `text` and closes. */
async function fakeSrvr(text: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end(text));
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('ports', () => {
  it('client, quorum and election ports for every member: all distinct, all free', async () => {
    const sets = await allocatePorts(4);
    expect(sets).toHaveLength(4);
    const all = sets.flatMap((p) => [p.client_port, p.quorum_port, p.election_port]);
    expect(new Set(all).size).toBe(12);
    for (const p of sets) expect(p.admin_port).toBeNull();
    for (const port of all) expect(await bindable(port)).toBe(true);
  });
});

describe('planEnsemble', () => {
  it('writes configs that load into the right EnsembleConfig, with the admin server off and extra lines applied', async () => {
    const { layout, created_dir } = await planEnsemble({ replicas: 3, observers: 1, extra_cfg: ['tickTime=500', 'readonlymode.enabled=true'] });
    made.push(layout.root);
    expect(created_dir).toBe(true);
    expect(layout.connect_string).toBe(layout.members.map((m) => `127.0.0.1:${m.ports.client_port}`).join(','));
    for (const m of layout.members) {
      const { config, warnings } = loadConfig({ file: m.cfg_path });
      expect(warnings).toEqual([]);
      expect(config).toMatchObject({ server_id: m.sid, client_port: m.ports.client_port, admin_enable_server: false, tick_time_ms: 500, data_dir: m.data_dir });
      expect(config.ensemble?.my_sid).toBe(m.sid);
      expect(config.ensemble?.read_only_mode_enabled).toBe(true);
      expect(config.ensemble?.members.map((x) => [x.sid, x.role, x.quorum_port, x.election_port, x.client_port])).toEqual(
        layout.members.map((x) => [x.sid, x.role, x.ports.quorum_port, x.ports.election_port, x.ports.client_port]),
      );
    }
    expect(layout.members.map((m) => m.role)).toEqual(['participant', 'participant', 'participant', 'observer']);
  });

  it('refuses extra lines that would change what the layout sets', async () => {
    await expect(planEnsemble({ replicas: 3, extra_cfg: ['clientPort=1'] })).rejects.toThrow(ConfigError);
    await expect(planEnsemble({ replicas: 3, extra_cfg: ['server.4=127.0.0.1:1:2'] })).rejects.toThrow(
      'extra_cfg:1: server.4: set by the ensemble layout for each member; remove it from the extra config',
    );
  });
});

describe('srvr polling', () => {
  it('srvrAt: the answer text, or null when nothing listens', async () => {
    const leader = await fakeSrvr('Zookeeper version: 3.9.4\nMode: leader\n');
    try {
      expect(await srvrAt(leader.port)).toBe('Zookeeper version: 3.9.4\nMode: leader\n');
    } finally {
      await leader.close();
    }
    expect(await srvrAt(await freePort(), 500)).toBeNull();
  });

  it('waits until the predicate holds over every member; times out naming each member\'s last answer', async () => {
    const leader = await fakeSrvr('Mode: leader\n');
    const dead = await freePort();
    const ports = new Map([
      [1, leader.port],
      [2, dead],
    ]);
    try {
      const answers = await pollSrvr(ports, (a) => a.get(1)?.includes('Mode: leader') === true && a.get(2) === null, 5_000);
      expect([...answers.keys()]).toEqual([1, 2]);
      const started = Date.now();
      const e = await pollSrvr(ports, (a) => a.get(2) !== null, 300).catch((x: Error) => x);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((e as Error).message).toBe('ensemble: condition not met after 300 ms; last srvr answers:\nserver.1: "Mode: leader | "\nserver.2: no answer');
    } finally {
      await leader.close();
    }
  });
});
