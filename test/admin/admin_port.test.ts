// The admin port is exclusive, on both backends (issue 10, item 12): a second replica started
// with an admin port that another one holds must not bind it too. uWebSockets.js binds with
// SO_REUSEPORT unless asked not to, so both replicas used to listen on the port and the kernel
// spread /metrics scrapes over them, silently; ZooKeeper's AdminServer fails to bind instead.
// Here the second replica runs without the admin API (the documented policy), says why in its
// log, and every answer on the port comes from the first one. A port freed by a stopped replica
// is bound again at once (SO_REUSEADDR is kept).
//
// How these fail: the uWS listen without LIBUS_LISTEN_EXCLUSIVE_PORT (the second server reports
// the port as its own, and scrapes land on either replica), a failure reported without the reason,
// an exclusive bind that also dropped SO_REUSEADDR (a restart cannot bind while connections of
// the previous run linger in TIME_WAIT).

import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/check/launch.js';
import { nativeFromEnv, startTestServer, type TestServer } from '../server/harness.js';

const BACKENDS = [
  { native: true, backend: nativeFromEnv() ? 'uWebSockets.js' : 'node:http' },
  { native: false, backend: 'node:http' },
];

/** GET over a fresh connection each time (a keep-alive one would stick to one listener). */
function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const running: TestServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of running.splice(0)) await s.stop();
});

async function start(admin_server_port: number, native: boolean): Promise<TestServer> {
  const s = await startTestServer({ admin_server_port, native, read_workers: 1 });
  running.push(s);
  return s;
}

describe.each(BACKENDS)('admin port on $backend', ({ native, backend }) => {
  it('a second replica does not bind an admin port the first one holds, and says so', async () => {
    const port = await freePort();
    const first = await start(port, native);
    expect(first.admin).toMatchObject({ port, backend });

    // The net worker logs from its thread; its console output reaches this process's stderr.
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write);
    const second = await start(port, native);
    expect(second.admin).toBeNull();
    await expect.poll(() => lines.join(''), { timeout: 2_000 }).toContain(`waitfree: admin server off: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);

    // Every answer on the port is the first replica's (its client port), however many we ask.
    for (let i = 0; i < 12; i++) {
      const conf = JSON.parse(await get(port, '/commands/conf')) as { client_port: number };
      expect(conf.client_port).toBe(first.port);
    }
  });

  it('a port freed by a stopped replica is bound again at once', async () => {
    const port = await freePort();
    const first = await start(port, native);
    // Served connections that the server closes leave TIME_WAIT entries on its side.
    for (let i = 0; i < 3; i++) await get(port, '/commands/ruok');
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const again = await start(port, native);
    expect(again.admin).toMatchObject({ port, backend });
    expect(JSON.parse(await get(port, '/commands/ruok'))).toEqual({ command: 'ruok', error: null });
  });
});
