// The launcher itself: each server kind starts, answers four-letter words and a session
// handshake, and stop() ends the process and removes its temp dir.

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fourLetter, serverKindsUnderTest, sessionHandshake, startServer } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

for (const kind of serverKindsUnderTest()) {
  describe.skipIf(kind === 'zookeeper' && zk_missing.length > 0)(`launcher: ${kind}`, () => {
    it('starts, serves ruok/srvr and a session, stops and cleans up', async () => {
      const server = await startServer(kind);
      try {
        expect(server.pid).toBeGreaterThan(0);
        expect(await fourLetter(server.port, 'ruok')).toBe('imok');
        expect(await fourLetter(server.port, 'srvr')).toMatch(/Mode: standalone/);
        expect(await sessionHandshake(server.port)).toBe(true);
        // The launcher's temp dir (config file; the data dir inside it) exists while running.
        expect(existsSync(dirname(server.dataDir))).toBe(true);
      } finally {
        await server.stop();
      }
      expect(existsSync(dirname(server.dataDir))).toBe(false);
      expect(() => process.kill(server.pid, 0)).toThrow();
    });
  });
}
