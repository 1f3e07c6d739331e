// The protocol parity cases (test/server/protocol_parity_cases.ts) against Apache ZooKeeper 3.8
// (Debian) and against waitfree, as child processes: every expectation the waitfree suite relies
// on is one the reference server meets too.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { PARITY_CASES, PARITY_TICK_TIME_MS } from '../server/protocol_parity_cases.js';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

for (const kind of serverKindsUnderTest()) {
  describe.skipIf(kind === 'zookeeper' && zk_missing.length > 0)(`protocol parity on ${kind} (tickTime 100 ms)`, () => {
    let server: RunningServer;

    beforeAll(async () => {
      server = await startServer(kind, { tickTime_ms: PARITY_TICK_TIME_MS });
    });

    afterAll(async () => {
      await server?.stop();
    });

    for (const c of PARITY_CASES) it(c.name, () => c.run(server.port));
  });
}
