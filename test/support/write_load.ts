// A bounded write load for failover tests: `clients` sessions each create /<root>/c<i>-<n> in a
// loop and record which creates were acknowledged (the server answered OK) and which are in doubt
// (the connection was lost before the answer: the create may or may not have happened).
//
// Invariant checked by the tests that use it: every acknowledged path exists on every replica
// once the ensemble has settled; an in-doubt path may exist or not. Bounded in count
// (writes_max per client) and in time (stop() or duration_ms_max, whichever first).

import { ZooKeeperClient } from '../../src/client/index.js';

export interface WriteLoadOptions {
  readonly connectString: string;
  readonly root: string;
  readonly clients: number;
  readonly writes_max: number;
  readonly duration_ms_max: number;
  readonly sessionTimeout_ms?: number;
}

export interface WriteLoad {
  /** Paths whose create was answered OK, in the order answered. */
  readonly acknowledged: readonly string[];
  /** Creates that failed with an error other than a lost connection (should stay empty). */
  readonly errors: readonly string[];
  /** Creates whose answer was lost with the connection. */
  readonly in_doubt: readonly string[];
  /** Resolves once `acknowledged.length` reaches `count` (rejects after timeout_ms). */
  reach(count: number, timeout_ms: number): Promise<void>;
  stop(): Promise<void>;
}

const LOST_CODES: ReadonlySet<string> = new Set(['CONNECTIONLOSS', 'SESSIONMOVED', 'OPERATIONTIMEOUT', 'NOTREADONLY']);
const RETRY_PAUSE_MS = 20;

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(e);
}

export async function startWriteLoad(o: WriteLoadOptions): Promise<WriteLoad> {
  const acknowledged: string[] = [];
  const errors: string[] = [];
  const in_doubt: string[] = [];
  const clients: ZooKeeperClient[] = [];
  for (let i = 0; i < o.clients; i++) {
    clients.push(await ZooKeeperClient.connect(o.connectString, { sessionTimeout_ms: o.sessionTimeout_ms ?? 10_000 }));
  }
  await clients[0]!.mkdirp(o.root);
  let stopping = false;
  const deadline = Date.now() + o.duration_ms_max;
  const loop = async (c: ZooKeeperClient, i: number): Promise<void> => {
    for (let n = 0; n < o.writes_max && !stopping && Date.now() < deadline; n++) {
      const path = `${o.root}/c${i}-${n}`;
      try {
        await c.create(path);
        acknowledged.push(path);
      } catch (e) {
        const code = errorCode(e);
        if (LOST_CODES.has(code)) in_doubt.push(path);
        else errors.push(`${path}: ${code}`);
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  };
  const done = Promise.all(clients.map((c, i) => loop(c, i)));
  return {
    acknowledged,
    errors,
    in_doubt,
    async reach(count, timeout_ms) {
      const until = Date.now() + timeout_ms;
      while (acknowledged.length < count) {
        if (Date.now() > until) {
          throw new Error(`write load: ${acknowledged.length} of ${count} creates acknowledged after ${timeout_ms} ms (${in_doubt.length} in doubt, errors: ${errors.slice(0, 5).join('; ')})`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      stopping = true;
      await done;
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    },
  };
}
