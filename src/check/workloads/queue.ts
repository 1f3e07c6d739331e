// A queue of sequential znodes: enqueue = create sequential `q-<uid>-`, list = getChildren after
// a sync, dequeue = delete of the lowest item a listing showed (NONODE when another consumer took
// it first). The uid in each name lets an enqueue with an unknown outcome be recognised later.

import type { JsonObject } from '../checker/history.js';
import type { RecordedClient } from '../recorder.js';
import { sessionGone, type Workload, type WorkloadContext } from './common.js';

const WORKERS = 3;
const THINK_MS_MAX = 8;
/** Above this many items, workers dequeue rather than enqueue (bounds the model's state). */
const ITEMS_SOFT_MAX = 30;
const NAME = /^q-(.+)-(\d{10})$/;

interface Item {
  readonly uid: string;
  readonly seq: number;
  readonly name: string;
}

function dir(ctx: WorkloadContext): string {
  return `${ctx.root}/queue`;
}

export function parseItem(name: string): Item | null {
  const m = NAME.exec(name);
  return m === null ? null : { uid: m[1]!, seq: Number(m[2]), name };
}

function itemsOutput(children: readonly string[]): JsonObject {
  const items = children.map(parseItem).filter((i): i is Item => i !== null);
  return { items: items.map((i) => ({ uid: i.uid, seq: i.seq })) };
}

async function list(c: RecordedClient, ctx: WorkloadContext): Promise<Item[] | null> {
  const d = dir(ctx);
  const sync = c.sync(d);
  const r = await c.run({ model: 'queue', key: d, f: 'list', input: {}, sync }, (opts) => c.client.getChildren(d, opts), itemsOutput);
  return r.value === undefined ? null : r.value.map(parseItem).filter((i): i is Item => i !== null);
}

async function enqueue(c: RecordedClient, ctx: WorkloadContext, uid: string): Promise<void> {
  const d = dir(ctx);
  await c.run(
    { model: 'queue', key: d, f: 'enqueue', input: { uid } },
    (opts) => c.client.create(`${d}/q-${uid}-`, uid, { ...opts, mode: 'persistentSequential' }),
    (path) => ({ seq: parseItem(path.slice(path.lastIndexOf('/') + 1))?.seq ?? -1 }),
  );
}

async function dequeue(c: RecordedClient, ctx: WorkloadContext, items: readonly Item[]): Promise<void> {
  if (items.length === 0) return;
  const first = items.reduce((a, b) => (b.seq < a.seq ? b : a));
  const d = dir(ctx);
  await c.run({ model: 'queue', key: d, f: 'dequeue', input: { uid: first.uid, seq: first.seq } }, (opts) => c.client.delete(`${d}/${first.name}`, -1, opts), () => ({}));
}

export const queueWorkload: Workload = {
  name: 'queue',
  workers: WORKERS,
  async setup(ctx, admin) {
    await admin.client.mkdirp(dir(ctx));
  },
  async run(ctx, index) {
    const name = `queue-${index}`;
    const rng = ctx.rng(name);
    let n = 0;
    let known = 0;
    let c = await ctx.connect(name);
    while (c !== null && !ctx.stopping()) {
      const r = rng();
      if (r < 0.5 && known < ITEMS_SOFT_MAX) {
        await enqueue(c, ctx, `${index}x${++n}`);
        known++;
      } else {
        const items = await list(c, ctx);
        if (items !== null) known = items.length;
        if (items !== null && r >= 0.5 && r < 0.85) await dequeue(c, ctx, items);
      }
      await ctx.pause(rng() * THINK_MS_MAX);
      if (sessionGone(c)) {
        await c.close();
        c = await ctx.connect(name);
      }
    }
    await c?.close();
  },
  async final(ctx, reader) {
    await list(reader, ctx);
  },
};
