// A loopback TCP proxy that can freeze the connections it carries: bytes in both directions are
// dropped while the sockets stay open. A frozen client sends heartbeats the server never sees, so
// the server expires its session — a reliable way to force session expiry with any client library.
//
// Invariants: each client connection has exactly one upstream connection; when either side
// closes, the other is destroyed (so a client notices when the server drops it). Connections
// accepted after freeze() are not frozen (a client reconnecting must reach the server).

import net from 'node:net';

export interface TcpProxy {
  port: number;
  connectString: string;
  /** Drops all bytes of the connections open now, in both directions. */
  freeze(): void;
  /** Number of client connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  frozen: boolean;
}

export function startTcpProxy(target_port: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host: '127.0.0.1', port: target_port });
    const pair: Pair = { client, upstream, frozen: false };
    pairs.add(pair);
    client.on('data', (b) => {
      if (!pair.frozen) upstream.write(b);
    });
    upstream.on('data', (b) => {
      if (!pair.frozen) client.write(b);
    });
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.on('error', teardown);
    upstream.on('error', teardown);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('proxy: no address'));
      resolve({
        port: addr.port,
        connectString: `127.0.0.1:${addr.port}`,
        freeze: () => {
          for (const p of pairs) p.frozen = true;
        },
        accepted: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const p of pairs) {
              p.client.destroy();
              p.upstream.destroy();
            }
            server.close(() => done());
          }),
      });
    });
  });
}
