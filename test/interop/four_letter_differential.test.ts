// The four-letter words side by side with Apache ZooKeeper 3.8's: the same session, ephemeral
// and watches on each server, then every word's text compared line by line once the values
// that differ by nature (numbers, ids, addresses, dates, the version) are replaced by
// placeholders. Monitoring scripts and tools parse these texts: a line in another shape breaks
// them.
//
// How these fail: a line format that is not ZooKeeper's (the connection dump once printed cons'
// format instead of "ip: /ADDR sessionId: 0x.."), a missing or extra line, a key renamed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Op } from '../../src/protocol/opcodes.js';
import { fourLetter, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { WireClient } from '../support/wire_client.js';
import { keysOf, shape } from '../support/four_letter_shape.js';

const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const EPHEMERAL = 1;

describe.skipIf(zk_missing.length > 0)('four-letter words side by side with Apache ZooKeeper 3.8', () => {
  let wf: RunningServer;
  let zk: RunningServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    [wf, zk] = await Promise.all([startServer('waitfree'), startServer('zookeeper')]);
    for (const s of [wf, zk]) {
      const { client, outcome } = await WireClient.connect(s.port);
      expect(outcome.kind).toBe('connected');
      clients.push(client);
      expect((await client.request(Op.create, { path: '/fl-e', data: new Uint8Array(3), acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
      expect((await client.request(Op.getData, { path: '/fl-e', watch: true })).err).toBe(0);
      expect((await client.request(Op.exists, { path: '/zookeeper', watch: true })).err).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all([wf, zk].filter((s) => s !== undefined).map((s) => s.stop()));
  });

  for (const word of ['srvr', 'stat', 'cons', 'dump', 'wchs', 'wchc', 'wchp', 'dirs', 'isro', 'ruok', 'gtmk', 'hash']) {
    it(`${word}: ZooKeeper's lines`, async () => {
      const [ours, theirs] = await Promise.all([fourLetter(wf.port, word), fourLetter(zk.port, word)]);
      expect(shape(ours), `waitfree:\n${ours}\nzookeeper:\n${theirs}`).toEqual(shape(theirs));
    });
  }

  it("envi: ZooKeeper's keys; conf: ZooKeeper's keys and waitfree's own after them", async () => {
    const [envi_ours, envi_theirs] = await Promise.all([fourLetter(wf.port, 'envi'), fourLetter(zk.port, 'envi')]);
    expect(keysOf(envi_ours, '=')).toEqual(keysOf(envi_theirs, '='));
    const [conf_ours, conf_theirs] = await Promise.all([fourLetter(wf.port, 'conf'), fourLetter(zk.port, 'conf')]);
    expect(keysOf(conf_ours, '=')).toEqual(expect.arrayContaining(keysOf(conf_theirs, '=')));
  });

  it("mntr: every name is one of ZooKeeper's (waitfree's own are zk_waitfree_*)", async () => {
    const [ours, theirs] = await Promise.all([fourLetter(wf.port, 'mntr'), fourLetter(zk.port, 'mntr')]);
    const mine = keysOf(ours, '\t').filter((k) => !k.startsWith('zk_waitfree_'));
    const zks = keysOf(theirs, '\t');
    expect(mine.filter((k) => !zks.includes(k)), 'names ZooKeeper does not print').toEqual([]);
    expect(mine.length).toBeGreaterThanOrEqual(37);
  });
});
