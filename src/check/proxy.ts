// A fault-injecting TCP proxy the check tool puts between its clients and a server: partition()
// cuts the link (bytes in flight are dropped both ways and new connections hang, as behind a
// firewall that drops packets), heal() restores it by resetting every connection that lived
// through the cut (their streams lost bytes, so they cannot be resumed) and passing new ones.
//
// Invariants: each accepted client socket has at most one upstream socket; when either side
// closes, the other is destroyed; while partitioned, no byte crosses in either direction.

import net from 'node:net';

interface Pair {
  readonly client: net.Socket;
  /** null while partitioned: the connection was accepted and hangs. */
  upstream: net.Socket | null;
  /** Lived through a partition: its stream lost bytes. */
  cut: boolean;
}

export class FaultProxy {
  private readonly pairs = new Set<Pair>();
  private partitioned = false;
  private accepted_ = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target_host: string,
    private readonly target_port: number,
  ) {
    server.on('connection', (c) => this.accept(c));
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to host:port. */
  static start(target_host: string, target_port: number): Promise<FaultProxy> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('proxy: no address'));
        resolve(new FaultProxy(server, addr.port, target_host, target_port));
      });
    });
  }

  get connect_string(): string {
    return `127.0.0.1:${this.port}`;
  }

  get accepted(): number {
    return this.accepted_;
  }

  get is_partitioned(): boolean {
    return this.partitioned;
  }

  partition(): void {
    this.partitioned = true;
    for (const p of this.pairs) p.cut = true;
  }

  heal(): void {
    this.partitioned = false;
    for (const p of [...this.pairs]) if (p.cut) this.teardown(p);
  }

  close(): Promise<void> {
    for (const p of [...this.pairs]) this.teardown(p);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted_++;
    const pair: Pair = { client, upstream: null, cut: false };
    this.pairs.add(pair);
    client.on('data', (b) => {
      if (!this.partitioned && !pair.cut && pair.upstream !== null) pair.upstream.write(b);
    });
    const down = (): void => this.teardown(pair);
    client.on('close', down);
    client.on('error', down);
    // While partitioned, a new connection hangs (its first bytes are lost) and is reset on heal.
    if (this.partitioned) pair.cut = true;
    else this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const upstream = net.connect({ host: this.target_host, port: this.target_port });
    pair.upstream = upstream;
    upstream.on('data', (b) => {
      if (!this.partitioned && !pair.cut) pair.client.write(b);
    });
    const down = (): void => this.teardown(pair);
    upstream.on('close', down);
    upstream.on('error', down);
  }

  private teardown(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
