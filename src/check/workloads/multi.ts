// multi (transactions) over a few znodes checked together: txns of two setData with the versions
// the worker last saw, or a check on one node and a setData on another; reads of single nodes
// (after a sync for the search, plain for the zxid checks). A txn applies whole or not at all.

import type { TxnOp } from '../../client/index.js';
import type { JsonObject } from '../checker/history.js';
import type { RecordedClient } from '../recorder.js';
import { recordedCreate, recordedRead, sessionGone, ValueSource, type Workload, type WorkloadContext } from './common.js';

const KEYS = 3;
const WORKERS = 3;
const THINK_MS_MAX = 8;

function paths(ctx: WorkloadContext): string[] {
  return Array.from({ length: KEYS }, (_, i) => `${ctx.root}/multi/m${i}`);
}

function group(ctx: WorkloadContext): string {
  return `${ctx.root}/multi`;
}

/** Two distinct paths. */
function twoPaths(ctx: WorkloadContext, rng: () => number): [string, string] {
  const all = paths(ctx);
  const a = Math.floor(rng() * all.length);
  const b = (a + 1 + Math.floor(rng() * (all.length - 1))) % all.length;
  return [all[a]!, all[b]!];
}

interface Sub {
  kind: 'check' | 'set';
  path: string;
  version: number;
  value: string | null;
}

async function txn(c: RecordedClient, ctx: WorkloadContext, subs: readonly Sub[], versions: Map<string, number>): Promise<void> {
  const ops: TxnOp[] = subs.map((s) => (s.kind === 'check' ? { op: 'check', path: s.path, version: s.version } : { op: 'setData', path: s.path, data: s.value, version: s.version }));
  const input: JsonObject = { ops: subs.map((s) => ({ kind: s.kind, path: s.path, version: s.version, value: s.value })) };
  const r = await c.run(
    { model: 'multi', key: group(ctx), f: 'txn', input },
    (opts) => c.client.multi(ops, opts),
    (results) => ({ versions: results.map((x) => (x.op === 'setData' ? x.stat.version : null)) }),
  );
  if (r.value !== undefined) r.value.forEach((x, i) => x.op === 'setData' && versions.set(subs[i]!.path, x.stat.version));
}

async function oneOp(c: RecordedClient, ctx: WorkloadContext, rng: () => number, versions: Map<string, number>, values: ValueSource): Promise<void> {
  const r = rng();
  const [a, b] = twoPaths(ctx, rng);
  const seen = (p: string) => versions.get(p) ?? 0;
  if (r < 0.4) return txn(c, ctx, [{ kind: 'set', path: a, version: seen(a), value: values.next() }, { kind: 'set', path: b, version: seen(b), value: values.next() }], versions);
  if (r < 0.6) return txn(c, ctx, [{ kind: 'check', path: a, version: seen(a), value: null }, { kind: 'set', path: b, version: seen(b), value: values.next() }], versions);
  const got = await recordedRead(c, { model: 'multi', key: group(ctx), path: a, input: { path: a }, synced: r < 0.85 });
  if (got.value !== undefined) versions.set(a, got.value.stat.version);
}

export const multiWorkload: Workload = {
  name: 'multi',
  workers: WORKERS,
  async setup(ctx, admin) {
    await admin.client.mkdirp(group(ctx));
    for (const [i, path] of paths(ctx).entries()) await recordedCreate(admin, 'multi', group(ctx), path, `init-m${i}`, false, { path });
  },
  async run(ctx, index) {
    const name = `multi-${index}`;
    const rng = ctx.rng(name);
    const values = new ValueSource(name);
    const versions = new Map<string, number>();
    let c = await ctx.connect(name);
    while (c !== null && !ctx.stopping()) {
      await oneOp(c, ctx, rng, versions, values);
      await ctx.pause(rng() * THINK_MS_MAX);
      if (sessionGone(c)) {
        await c.close();
        c = await ctx.connect(name);
      }
    }
    await c?.close();
  },
  async final(ctx, reader) {
    for (const path of paths(ctx)) await recordedRead(reader, { model: 'multi', key: group(ctx), path, input: { path }, synced: true });
  },
};
