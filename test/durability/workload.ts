// A seeded random writer for durability tests: realistic txns from the real prep path
// (test/tree/harness.ts), including sequential names, ephemerals of several sessions,
// createSession/closeSession, multi (some failing), setData, deletes and error txns.

import { Harness, enc, open } from '../tree/harness.js';
import { mulberry32 as rng } from '../../src/check/prng.js';
import type { Txn } from '../../src/tree/txn.js';

/** The project's seeded PRNG (mulberry32; seed printed by tests on failure). */
export { rng };

export class Workload {
  readonly h = new Harness();
  private readonly live = new Set<bigint>();
  private next_session = 0x100n;
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = rng(seed);
    this.h.create('/q');
    this.h.create('/d');
  }

  get txns(): readonly Txn[] {
    return this.h.log;
  }

  get tree() {
    return this.h.tree;
  }

  /** The live sessions with their (timeout, passwd), as recovery should rebuild them. */
  sessions(): Map<bigint, { timeout_ms: number; passwd: Uint8Array }> {
    const out = new Map<bigint, { timeout_ms: number; passwd: Uint8Array }>();
    for (const t of this.h.log) {
      if (t.op.kind === 'createSession') out.set(t.header.session_id, { timeout_ms: t.op.timeout_ms, passwd: t.op.passwd });
      if (t.op.kind === 'closeSession') out.delete(t.header.session_id);
    }
    return out;
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Appends `n` random txns. */
  run(n: number): void {
    for (let i = 0; i < n; i++) this.step();
  }

  step(): void {
    const r = this.int(100);
    const children = this.h.tree.getChildren('/d') ?? [];
    if (r < 30) this.h.create(`/d/n${this.int(200)}`, `v${this.int(1000)}`.repeat(1 + this.int(4)));
    else if (r < 40) this.h.create('/q/s-', 'seq', 2);
    else if (r < 60) {
      const name = this.pick(children);
      this.h.write(5, { path: `/d/${name ?? 'missing'}`, data: enc(`set${this.int(1e6)}`), version: -1 });
    } else if (r < 70) {
      const name = this.pick(children);
      this.h.write(2, { path: `/d/${name ?? 'missing'}`, version: -1 });
    } else if (r < 76) {
      const id = this.next_session++;
      this.live.add(id);
      const passwd = new Uint8Array(16).map(() => this.int(256));
      this.h.commit({ kind: 'createSession', timeout_ms: 2000 + this.int(8000), passwd }, id);
    } else if (r < 86) {
      const id = this.pick([...this.live]);
      if (id !== undefined) this.h.create(`/d/e${this.int(100)}`, 'eph', 1, { session_id: id });
    } else if (r < 90) {
      const id = this.pick([...this.live]);
      if (id !== undefined) {
        this.live.delete(id);
        this.h.commit({ kind: 'closeSession', paths: this.h.tree.ephemerals(id) }, id);
      }
    } else {
      const a = `/d/m${this.int(50)}`;
      this.h.write(14, [
        { type: 1, request: { path: a, data: enc('multi'), acl: open(), flags: 0 } },
        { type: 5, request: { path: a, data: enc('multi2'), version: this.int(2) - 1 } },
      ]);
    }
  }
}
