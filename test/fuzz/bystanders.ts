// Bystanders: well-behaved sessions that keep reading and writing, with watches, while the fuzz
// runs. Any error, timeout, lost connection, lost or late watch event is recorded; the fuzz
// fails on the first one. Shared by the CI test and the long run.
//
// One iteration k of bystander i, on its own node /bystander-i (the fuzz never uses that path):
//   exists(child, watch) -> NONODE             (an exists watch on a missing node)
//   create(child, "k")   -> ok; NodeCreated for child arrived before this reply
//   getData(node, watch) -> the value written in iteration k-1
//   setData(node, "k", version) -> ok, version + 1; NodeDataChanged arrived before this reply
//   delete(child)        -> ok
// ZooKeeper sends a watch event before the reply of the write that fired it, on the same
// connection; the client must never see the new state before the event.

import { createHash } from 'node:crypto';
import type { Stat } from '../../src/protocol/types.js';
import { WireClient, type Received, type Reply } from '../support/wire_client.js';

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const NONODE = -101;
const EVENT_NODE_CREATED = 1;
const EVENT_NODE_DATA_CHANGED = 3;
/** Errors kept per bystander (the first one fails the run; a few more help the diagnosis). */
const ERRORS_KEPT_MAX = 10;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string | null => (b == null ? null : new TextDecoder().decode(b));

/** The fuzz may setACL on any node it can name: bystanders are super users, so an ACL it set is never mistaken for a fault. */
export const SUPER_PASSWORD = 'fuzz';
export const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

export class Bystander {
  readonly errors: string[] = [];
  /** Requests answered as expected. */
  ops = 0;
  private running: Promise<void> | null = null;
  private stopping = false;

  private constructor(
    readonly name: string,
    private readonly client: WireClient,
    private readonly node: string,
  ) {}

  /** Connects (the handshake completes before this returns: consecutive bystanders land on consecutive shards). */
  static async connect(port: number, index: number): Promise<Bystander> {
    const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000, handshakeTimeout_ms: 10_000 });
    if (outcome.kind !== 'connected') throw new Error(`bystander ${index}: the server refused the session`);
    const b = new Bystander(`bystander-${index}`, client, `/bystander-${index}`);
    const auth = await client.requestSpecial(-4, 100, { type: 0, scheme: 'digest', auth: utf8(`super:${SUPER_PASSWORD}`) });
    if (auth.err !== 0) throw new Error(`${b.name}: super auth failed (${auth.err}): is superDigest set?`);
    const made = await client.request(1, { path: b.node, data: utf8('-1'), acl: OPEN_ACL, flags: 0 });
    if (made.err !== 0) throw new Error(`${b.name}: create ${b.node} failed (${made.err})`);
    return b;
  }

  /** Starts the loop; pause_ms between iterations (0: back to back, yielding to the event loop). */
  start(pause_ms = 0): void {
    if (this.running !== null) return;
    this.running = this.loop(pause_ms);
  }

  /** Stops after the current iteration and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.client.destroy();
  }

  private fail(what: string): void {
    if (this.errors.length < ERRORS_KEPT_MAX) this.errors.push(`${this.name}: ${what}`);
  }

  private async loop(pause_ms: number): Promise<void> {
    let version = 0;
    let value = '-1';
    for (let k = 0; !this.stopping && this.errors.length === 0; k++) {
      try {
        const next = await this.iteration(k, version, value);
        if (next === null) return;
        version = next;
        value = String(k);
      } catch (e) {
        this.fail(`iteration ${k}: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      // The transcript only grows: drop it (the checks look at the current iteration only).
      this.client.received.splice(0);
      await new Promise((resolve) => (pause_ms > 0 ? setTimeout(resolve, pause_ms) : setImmediate(resolve)));
    }
  }

  /** One iteration; returns the node's new version, or null after recording an error. */
  private async iteration(k: number, version: number, value: string): Promise<number | null> {
    const child = `${this.node}/child`;
    const c = this.client;
    if (!this.expectErr(`exists ${child}`, await c.request(3, { path: child, watch: true }), NONODE)) return null;
    const created = await c.request(1, { path: child, data: utf8(String(k)), acl: OPEN_ACL, flags: 0 });
    if (!this.expectErr(`create ${child}`, created, 0)) return null;
    if (!this.sawEvent(EVENT_NODE_CREATED, child)) return this.failed(`no NodeCreated event for ${child} before the create reply`);
    const got = await c.request(4, { path: this.node, watch: true });
    if (!this.expectErr(`getData ${this.node}`, got, 0)) return null;
    const body = got.body as { data: Uint8Array | null; stat: Stat };
    if (text(body.data) !== value) return this.failed(`getData ${this.node}: data ${text(body.data)}, expected ${value}`);
    const set = await c.request(5, { path: this.node, data: utf8(String(k)), version });
    if (!this.expectErr(`setData ${this.node} version ${version}`, set, 0)) return null;
    const stat = (set.body as { stat: Stat }).stat;
    if (stat.version !== version + 1) return this.failed(`setData ${this.node}: version ${stat.version}, expected ${version + 1}`);
    if (!this.sawEvent(EVENT_NODE_DATA_CHANGED, this.node)) return this.failed(`no NodeDataChanged event for ${this.node} before the setData reply`);
    if (!this.expectErr(`delete ${child}`, await c.request(2, { path: child, version: 0 }), 0)) return null;
    return stat.version;
  }

  private failed(what: string): null {
    this.fail(what);
    return null;
  }

  private expectErr(what: string, r: Reply, err: number): boolean {
    if (r.err === err) {
      this.ops++;
      return true;
    }
    this.fail(`${what}: error ${r.err}, expected ${err}`);
    return false;
  }

  private sawEvent(type: number, path: string): boolean {
    return this.client.received.some((r: Received) => r.kind === 'notification' && r.event.type === type && r.event.path === path);
  }
}

/** n bystanders, connected one after another (with read workers >= n, each on its own shard), looping. */
export async function startBystanders(port: number, n: number, pause_ms = 0): Promise<Bystander[]> {
  const out: Bystander[] = [];
  for (let i = 0; i < n; i++) out.push(await Bystander.connect(port, i));
  for (const b of out) b.start(pause_ms);
  return out;
}

export function bystanderErrors(bs: readonly Bystander[]): string[] {
  return bs.flatMap((b) => b.errors);
}
