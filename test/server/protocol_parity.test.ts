// Protocol behaviours where waitfree answers as Apache ZooKeeper 3.8 does (issue 10: items 3, 4,
// 5 and 10, and the fuzzer's findings: malformed bodies, trailing bytes, pings in order), run
// against an in-process waitfree. The cases and what ZooKeeper answers are in
// protocol_parity_cases.ts; test/interop/protocol_parity.test.ts checks the same cases against
// Apache ZooKeeper itself.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';
import { PARITY_CASES, PARITY_TICK_TIME_MS } from './protocol_parity_cases.js';

describe('protocol parity with Apache ZooKeeper (waitfree, tickTime 100 ms)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ tick_time_ms: PARITY_TICK_TIME_MS, read_workers: 2 });
  });

  afterAll(async () => {
    await server?.stop();
  });

  for (const c of PARITY_CASES) it(c.name, () => c.run(server.port));
});
