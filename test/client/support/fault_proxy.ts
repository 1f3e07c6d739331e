// A loopback TCP proxy for client fault tests. Modes, switchable at any time:
// - pass: bytes flow both ways;
// - drop_replies: client -> server bytes flow, server -> client bytes are dropped (a request is
//   executed but its reply never arrives);
// - freeze: bytes are dropped both ways (sockets stay open: the client must notice by timeout).
// kill() destroys every open connection (both sides); refuse() stops accepting (connection
// refused, like a dead server); accept() listens again on the same port.
//
// Invariants: one upstream connection per client connection; when either side closes, the other
// is destroyed, so the client sees a server going away at once.

import net from 'node:net';

export type ProxyMode = 'pass' | 'drop_replies' | 'freeze';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class FaultProxy {
  mode: ProxyMode = 'pass';
  private readonly pairs = new Set<Pair>();
  private server: net.Server | null = null;
  accepted = 0;

  private constructor(
    readonly target_port: number,
    public port: number,
  ) {}

  static async start(target_port: number): Promise<FaultProxy> {
    const p = new FaultProxy(target_port, 0);
    await p.accept();
    return p;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get open_connections(): number {
    return this.pairs.size;
  }

  /** (Re)starts listening, on the same port as before if it had one. */
  accept(): Promise<void> {
    if (this.server !== null) return Promise.resolve();
    const server = net.createServer((client) => this.onClient(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        const addr = server.address();
        if (addr !== null && typeof addr !== 'string') this.port = addr.port;
        resolve();
      });
    });
  }

  private onClient(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect({ host: '127.0.0.1', port: this.target_port });
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    client.on('data', (b) => {
      if (this.mode !== 'freeze') upstream.write(b);
    });
    upstream.on('data', (b) => {
      if (this.mode === 'pass') client.write(b);
    });
    const teardown = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', teardown);
      s.on('error', teardown);
    }
  }

  /** Destroys every open connection (the listener stays). */
  kill(): void {
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops listening and kills every connection: connects are refused until accept(). */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.kill();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.refuse();
  }
}
