// The links between the replicas of a waitfree ensemble, each through a FaultProxy, so the
// partition-peers nemesis can cut a replica off from the others while clients still reach it.
//
// Member i's zoo.cfg names, for every other member j, the port of proxy (i, j) instead of j's real
// quorum port; proxy (i, j) forwards to j's real quorum port. Only the higher sid dials (i > j),
// but there is a proxy for every ordered pair, so a cut holds whichever side dials.
//
// Invariants: proxy (i, j) exists exactly for i != j, 0 <= i, j < size; isolate() cuts every proxy
// on a link touching the member and nothing else; heal() leaves no proxy cut.

import { FaultProxy } from './proxy.js';

/** Tries at starting one proxy on a port no member uses (the OS may hand a just-freed one out again). */
const PROXY_START_TRIES_MAX = 20;

export class PeerLinks {
  private constructor(
    /** proxies[i][j]: member i's way to member j (null on the diagonal). */
    private readonly proxies: readonly (readonly (FaultProxy | null)[])[],
  ) {}

  /**
   * One proxy per ordered pair of members, forwarding to `quorum_ports[j]` on 127.0.0.1. No proxy
   * takes a port in `reserved` (the members' own ports, bound later by the members).
   */
  static async start(quorum_ports: readonly number[], reserved: ReadonlySet<number>): Promise<PeerLinks> {
    const rows: (FaultProxy | null)[][] = [];
    try {
      for (let i = 0; i < quorum_ports.length; i++) {
        const row: (FaultProxy | null)[] = [];
        rows.push(row);
        for (let j = 0; j < quorum_ports.length; j++) row.push(i === j ? null : await startAvoiding(quorum_ports[j]!, reserved));
      }
    } catch (e) {
      await Promise.all(rows.flat().map((p) => p?.close()));
      throw e;
    }
    return new PeerLinks(rows);
  }

  get size(): number {
    return this.proxies.length;
  }

  /** The port member `from` uses to reach member `to` (from != to). */
  portOf(from: number, to: number): number {
    return this.proxy(from, to).port;
  }

  /** Cuts every link between member `index` and the others (both directions); returns how many proxies. */
  isolate(index: number): number {
    this.check(index, 'isolate');
    let cut = 0;
    for (let k = 0; k < this.size; k++) {
      if (k === index) continue;
      this.proxy(index, k).partition();
      this.proxy(k, index).partition();
      cut += 2;
    }
    return cut;
  }

  /** Restores every link (connections that lived through a cut are reset; new ones pass). */
  heal(): void {
    for (const p of this.all()) if (p.is_partitioned) p.heal();
  }

  /** Indexes of the proxies now cut, as "i->j" (0-based), for tests and reports. */
  cutLinks(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) for (let j = 0; j < this.size; j++) if (i !== j && this.proxy(i, j).is_partitioned) out.push(`${i}->${j}`);
    return out;
  }

  close(): Promise<void> {
    return Promise.all(this.all().map((p) => p.close())).then(() => undefined);
  }

  private all(): FaultProxy[] {
    return this.proxies.flat().filter((p): p is FaultProxy => p !== null);
  }

  private proxy(from: number, to: number): FaultProxy {
    this.check(from, 'from');
    this.check(to, 'to');
    const p = this.proxies[from]![to];
    if (p === null || p === undefined) throw new Error(`peer links: no link from member ${from} to itself`);
    return p;
  }

  private check(index: number, what: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new Error(`peer links: ${what} member index ${index} is not in 0..${this.size - 1}`);
  }
}

async function startAvoiding(target_port: number, reserved: ReadonlySet<number>): Promise<FaultProxy> {
  for (let attempt = 1; attempt <= PROXY_START_TRIES_MAX; attempt++) {
    const p = await FaultProxy.start('127.0.0.1', target_port);
    if (!reserved.has(p.port)) return p;
    await p.close();
  }
  throw new Error(`peer links: no free port for the proxy to quorum port ${target_port} in ${PROXY_START_TRIES_MAX} tries`);
}
