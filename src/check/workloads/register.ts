// Compare-and-set registers: a few znodes, each checked as a register (getData / setData with the
// version the worker last saw, sometimes unconditional), read plainly (the zxid checks; some with
// a watch, for the watch-order check) or after a sync (the linearizability search).

import type { RecordedClient } from '../recorder.js';
import { pick, recordedCreate, recordedRead, recordedWrite, sessionGone, ValueSource, type Workload, type WorkloadContext } from './common.js';

const KEYS = 4;
const WORKERS = 4;
const THINK_MS_MAX = 8;

function keys(ctx: WorkloadContext): string[] {
  return Array.from({ length: KEYS }, (_, i) => `${ctx.root}/register/r${i}`);
}

/** One op of the mix; versions: the worker's last seen version per key (CAS expectations). */
async function oneOp(c: RecordedClient, rng: () => number, path: string, versions: Map<string, number>, values: ValueSource): Promise<void> {
  const r = rng();
  if (r < 0.55) {
    const got = await recordedRead(c, { model: 'register', key: path, path, synced: r >= 0.35, watch: r < 0.07 });
    if (got.value !== undefined) versions.set(path, got.value.stat.version);
    return;
  }
  const expected = r < 0.9 ? (versions.get(path) ?? 0) : -1;
  const w = await recordedWrite(c, 'register', path, path, values.next(), expected);
  if (w.value !== undefined) versions.set(path, w.value.version);
}

export const registerWorkload: Workload = {
  name: 'register',
  workers: WORKERS,
  async setup(ctx, admin) {
    await admin.client.mkdirp(`${ctx.root}/register`);
    for (const [i, path] of keys(ctx).entries()) await recordedCreate(admin, 'register', path, path, `init-${i}`, false);
  },
  async run(ctx, index) {
    const name = `register-${index}`;
    const rng = ctx.rng(name);
    const values = new ValueSource(name);
    const versions = new Map<string, number>();
    let c = await ctx.connect(name);
    while (c !== null && !ctx.stopping()) {
      await oneOp(c, rng, pick(rng, keys(ctx)), versions, values);
      await ctx.pause(rng() * THINK_MS_MAX);
      if (sessionGone(c)) {
        await c.close();
        c = await ctx.connect(name);
      }
    }
    await c?.close();
  },
  async final(ctx, reader) {
    for (const path of keys(ctx)) await recordedRead(reader, { model: 'register', key: path, path, synced: true });
  },
};
