// A connection that never completes its session handshake is closed after
// waitfree.sessionlessCnxnTimeoutMs (ZooKeeper: zookeeper.nio.sessionlessCnxnTimeout, 10 s), so
// idle sockets cannot hold connection slots (maxClientCnxns, maxCnxns) for ever. Sessions that
// did their handshake are not affected, however idle between requests.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { asReply, connect, sleep, startTestServer, type TestServer } from './harness.js';

let server: TestServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

function openIdle(port: number): Promise<{ closed: () => boolean }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  return new Promise((resolve) => sock.once('connect', () => resolve({ closed: () => closed })));
}

describe('connections without a session', () => {
  it('are closed after the sessionless timeout; a half-sent ConnectRequest too; sessions are not', async () => {
    // Longer than a session's creation takes (its createSession txn waits for an fsync, slow on a
    // loaded CI disk): the handshake of a real client must fit in it, as in ZooKeeper.
    server = await startTestServer({ sessionless_cnxn_timeout_ms: 1_500, max_client_cnxns: 3 });
    const session = await connect(server.port, { timeout_ms: 10_000 });
    session.startKeepalive(500);
    const idle = await openIdle(server.port);
    const partial = net.connect({ host: '127.0.0.1', port: server.port });
    let partial_closed = false;
    partial.on('close', () => (partial_closed = true));
    partial.on('error', () => undefined);
    await new Promise<void>((resolve) => partial.once('connect', resolve));
    partial.write(Buffer.from([0, 0, 0, 44, 0, 0])); // a ConnectRequest's first bytes, never finished

    for (let i = 0; i < 100 && !(idle.closed() && partial_closed); i++) await sleep(100);
    expect(idle.closed()).toBe(true);
    expect(partial_closed).toBe(true);
    // The slots they held are free again (maxClientCnxns 3: the session + two new ones fit).
    const a = await connect(server.port);
    const b = await connect(server.port);
    expect(asReply(await session.request(3, { path: '/', watch: false })).err).toBe(0);
    expect(session.isClosed()).toBe(false);
    a.destroy();
    b.destroy();
  });
});
