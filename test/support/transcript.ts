// Records a scripted protocol session as text lines that can be compared between two servers.
//
// Normalisation (so that runs on different servers, at different times, compare equal):
// - zxids (ReplyHeader.zxid, czxid, mzxid, pzxid) become symbols in order of first appearance,
//   numbered per script section (Z3.1 = the first new zxid seen in section 3), so "the second
//   zxid the section saw" compares equal and one extra zxid on one server only shifts names until
//   the next section; 0 and -1 stay literal.
// - session ids (ConnectResponse.sessionId, ephemeralOwner) become S1, S2, ... likewise; 0 stays.
// - ctime/mtime become <time> when plausible (0, or within the run ± slack), else BADTIME(v).
// - session passwords are shown by length only.
// - child and ephemeral lists are sorted (ZooKeeper returns them in hash-set order).
// - notification zxids are shown as *: Apache ZooKeeper 3.8 sends -1, 3.9+ (ZOOKEEPER-4655) sends
//   the triggering txn's zxid; both are correct for their version.
//
// Notifications are printed at explicit `events(client, n)` steps (and when a client closes), so
// their place in the transcript does not depend on socket timing.

import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { errorName } from '../../src/protocol/errors.js';
import { opName } from '../../src/protocol/opcodes.js';
import type { OpCode, RequestInput } from '../../src/protocol/messages.js';
import type { ConnectResponse } from '../../src/protocol/types.js';
import { WireClient, type ConnectOptions, type Reply } from './wire_client.js';

const ZXID_KEYS = new Set(['zxid', 'czxid', 'mzxid', 'pzxid', 'relativeZxid', 'lastZxidSeen']);
const TIME_KEYS = new Set(['ctime', 'mtime']);
const SESSION_KEYS = new Set(['sessionId', 'ephemeralOwner']);
const SORTED_LIST_KEYS = new Set(['children', 'ephemerals']);
const TIME_SLACK_MS = 10 * 60_000;
const EVENTS_TIMEOUT_MS = 10_000;

const EVENT_TYPE_NAMES: Record<number, string> = {
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved',
  6: 'ChildWatchRemoved',
  7: 'PersistentWatchRemoved',
};

export interface Line {
  label: string;
  text: string;
}

/** Maps raw values to symbols in order of first appearance. */
class SymbolTable<K> {
  private readonly map = new Map<K, string>();
  constructor(private readonly prefix: string) {}
  get(k: K): string {
    let s = this.map.get(k);
    if (s === undefined) {
      s = `${this.prefix}${this.map.size + 1}`;
      this.map.set(k, s);
    }
    return s;
  }
  has(k: K): boolean {
    return this.map.has(k);
  }
}

export class Normaliser {
  /** zxid -> symbol; symbols are numbered per section (Z<section>.<n>). */
  private readonly zxids = new Map<number, string>();
  private scope = 0;
  private scope_count = 0;
  private readonly sessions = new SymbolTable<bigint>('S');
  constructor(private readonly started_ms: number) {}

  /**
   * Starts a new numbering scope: zxids first seen from now on are Z<scope>.1, Z<scope>.2, ...
   * One server using an extra zxid then shifts the names only until the next section, instead
   * of for the rest of the transcript.
   */
  nextScope(): void {
    this.scope++;
    this.scope_count = 0;
  }

  zxid(v: number): string {
    if (v === 0 || v === -1) return String(v);
    let s = this.zxids.get(v);
    if (s === undefined) {
      s = `Z${this.scope}.${++this.scope_count}`;
      this.zxids.set(v, s);
    }
    return s;
  }

  session(v: bigint): string {
    if (v === 0n) return '0';
    // Container / TTL markers are not sessions (top byte 0x80 or 0xFF).
    if (v < 0n) return `0x${BigInt.asUintN(64, v).toString(16)}`;
    return this.sessions.get(v);
  }

  time(v: number): string {
    if (v === 0) return '0';
    const ok = v >= this.started_ms - TIME_SLACK_MS && v <= Date.now() + TIME_SLACK_MS;
    return ok ? '<time>' : `BADTIME(${v})`;
  }

  render(value: unknown, key = ''): string {
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number') {
      if (ZXID_KEYS.has(key)) return this.zxid(value);
      if (TIME_KEYS.has(key)) return this.time(value);
      return String(value);
    }
    if (typeof value === 'bigint') return SESSION_KEYS.has(key) ? this.session(value) : `${value}n`;
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'boolean') return String(value);
    if (value instanceof Uint8Array) return renderBytes(value, key);
    if (Array.isArray(value)) {
      const items = value.map((v) => this.render(v, key));
      if (SORTED_LIST_KEYS.has(key)) items.sort();
      return `[${items.join(', ')}]`;
    }
    if (typeof value === 'object') {
      const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}:${this.render(v, k)}`);
      return `{${parts.join(' ')}}`;
    }
    return String(value);
  }
}

function renderBytes(b: Uint8Array, key: string): string {
  if (key === 'passwd') return `<${b.length} bytes>`;
  if (b.length > 64) return `<${b.length} bytes sha1:${createHash('sha1').update(b).digest('hex').slice(0, 12)}>`;
  const s = Buffer.from(b).toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : `hex:${Buffer.from(b).toString('hex')}`;
}

/** Thrown when a step cannot complete (no reply): the transcript so far is still compared. */
export class ScriptAborted extends Error {
  override readonly name = 'ScriptAborted';
}

export interface OpOptions {
  /** Error name the reference server is known to answer (checked; mismatch = expectation failure). */
  expect?: string;
  label?: string;
}

interface ClientState {
  wire: WireClient;
  printed_notifications: number;
  session?: { sessionId: bigint; passwd: Uint8Array };
}

/** Runs script steps against one server and records the normalised transcript. */
export class Transcript {
  readonly lines: Line[] = [];
  /** Steps whose result differed from `expect` (the script's claims about the reference). */
  readonly expectation_failures: string[] = [];
  readonly norm: Normaliser;
  private readonly clients = new Map<string, ClientState>();
  private section = '';
  /** Clients with a request that never got a reply (their session's queue is stuck). */
  private readonly stuck = new Set<string>();

  constructor(
    private readonly port: number,
    /** When set, every line is also appended to this file as it is recorded. */
    private readonly live_file: string | null = null,
  ) {
    this.norm = new Normaliser(Date.now());
    if (live_file !== null) writeFileSync(live_file, '');
  }

  /** Records one line (and appends it to the live file). */
  private emit(line: Line): void {
    this.lines.push(line);
    if (this.live_file !== null) appendFileSync(this.live_file, `${line.label} | ${line.text}\n`);
  }

  /** Starts a named section: labels are `section: step`. */
  begin(section: string): void {
    this.section = section;
    this.norm.nextScope();
  }

  note(label: string, text: string): void {
    this.emit({ label: this.full(label), text });
  }

  private full(label: string): string {
    return this.section === '' ? label : `${this.section}: ${label}`;
  }

  client(name: string): WireClient {
    const c = this.clients.get(name);
    if (c === undefined) throw new Error(`no client ${name}`);
    return c.wire;
  }

  session(name: string): { sessionId: bigint; passwd: Uint8Array } {
    const s = this.clients.get(name)?.session;
    if (s === undefined) throw new Error(`client ${name} has no session`);
    return s;
  }

  /** Connects a named client; records the ConnectResponse (or that the server closed instead). */
  async connect(name: string, opts: ConnectOptions = {}, o: OpOptions = {}): Promise<ConnectResponse | null> {
    let connected: Awaited<ReturnType<typeof WireClient.connect>>;
    try {
      connected = await WireClient.connect(this.port, opts);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.emit({ label: this.full(o.label ?? `connect ${name}`), text: `${name} CONNECT FAILED (${msg})` });
      throw new ScriptAborted(`connect ${name}: ${msg}`);
    }
    const { client, outcome } = connected;
    const state: ClientState = { wire: client, printed_notifications: 0 };
    this.clients.set(name, state);
    const label = this.full(o.label ?? `connect ${name}`);
    const req = this.norm.render({ timeOut: opts.timeout_ms ?? 30_000, sessionId: opts.sessionId ?? 0n, lastZxidSeen: opts.lastZxidSeen ?? 0 });
    if (outcome.kind === 'closed') {
      this.emit({ label, text: `${name} connect ${req} → CLOSED (no ConnectResponse)` });
      this.check(label, o.expect, 'CLOSED');
      return null;
    }
    const r = outcome.response;
    state.session = { sessionId: r.sessionId, passwd: r.passwd };
    if (r.timeOut > 0) client.startKeepalive(Math.max(500, Math.floor(r.timeOut / 4)));
    this.emit({ label, text: `${name} connect ${req} → ${this.norm.render(r)}` });
    this.check(label, o.expect, r.timeOut > 0 ? 'OK' : 'EXPIRED');
    return r;
  }

  /** Sends one request and records request + reply. */
  async op<C extends OpCode>(name: string, type: C, body: RequestInput<C>, o: OpOptions = {}): Promise<Reply | null> {
    const wire = this.client(name);
    return this.record(name, opName(type), body, o, () => wire.request(type, body));
  }

  /** A request with a special xid (auth -4, setWatches -8, ping -2). */
  async special<C extends OpCode>(name: string, xid: number, type: C, body: RequestInput<C>, o: OpOptions = {}): Promise<Reply | null> {
    const wire = this.client(name);
    return this.record(name, `${opName(type)}[xid ${xid}]`, body, o, () => wire.requestSpecial(xid, type, body));
  }

  /** A request with an opcode the codec does not know. */
  async unknownOp(name: string, type: number, o: OpOptions = {}): Promise<Reply | null> {
    const wire = this.client(name);
    return this.record(name, `opcode ${type}`, null, o, () => wire.requestUnknown(type));
  }

  private async record(name: string, op: string, body: unknown, o: OpOptions, send: () => Promise<Reply>): Promise<Reply | null> {
    const label = this.full(o.label ?? `${op}${pathOf(body)}`);
    const req = body === null ? '' : ` ${this.norm.render(body)}`;
    let reply: Reply;
    try {
      reply = await send();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.emit({ label, text: `${name} ${op}${req} → NO REPLY (${msg})` });
      this.check(label, o.expect, 'NO REPLY');
      this.stuck.add(name);
      // Replies come in request order: a session whose request went unanswered is stuck, and
      // every later step would only wait out its timeout. Stop the script here.
      throw new ScriptAborted(`${label}: ${msg}`);
    }
    const status = reply.err === 0 ? 'OK' : errorName(reply.err);
    const tail = reply.body === null ? '' : ` ${this.norm.render(reply.body)}`;
    this.emit({ label, text: `${name} ${op}${req} → ${status} xid=${reply.xid} zxid=${this.norm.zxid(reply.zxid)}${tail}` });
    this.check(label, o.expect, status);
    return reply;
  }

  private check(label: string, expected: string | undefined, got: string): void {
    if (expected !== undefined && expected !== got) this.expectation_failures.push(`${label}: expected ${expected}, got ${got}`);
  }

  /**
   * Waits until `name` has received `n` notifications not yet printed (or EVENTS_TIMEOUT_MS),
   * then prints every unprinted one (more than n if more arrived: the diff shows them).
   */
  async events(name: string, n: number, label = `events ${name}`): Promise<void> {
    const st = this.clients.get(name);
    if (st === undefined) throw new Error(`no client ${name}`);
    const want = st.printed_notifications + n;
    const ok = await st.wire.until(() => st.wire.notificationCount() >= want, EVENTS_TIMEOUT_MS);
    this.printNotifications(name, st, this.full(label));
    if (!ok) this.emit({ label: this.full(label), text: `${name} TIMEOUT waiting for ${n} notification(s)` });
  }

  private printNotifications(name: string, st: ClientState, label: string): void {
    const all = st.wire.received.filter((r) => r.kind === 'notification');
    for (const r of all.slice(st.printed_notifications)) {
      if (r.kind !== 'notification') continue;
      const type = EVENT_TYPE_NAMES[r.event.type] ?? `type${r.event.type}`;
      this.emit({
        label,
        text: `${name} EVENT ${type} ${JSON.stringify(r.event.path)} state=${r.event.state} zxid=* after_replies=${r.replies_before}`,
      });
    }
    st.printed_notifications = all.length;
  }

  /** Records whether the server has closed the client's connection (waiting up to timeout_ms). */
  async expectClosed(name: string, timeout_ms = 5_000, label = `closed? ${name}`): Promise<void> {
    const st = this.clients.get(name);
    if (st === undefined) throw new Error(`no client ${name}`);
    const closed = await st.wire.waitClosed(timeout_ms);
    this.printNotifications(name, st, this.full(label));
    this.emit({ label: this.full(label), text: `${name} ${closed ? 'connection closed by server' : 'connection still open'}` });
  }

  /** Sends closeSession, records the reply and that the server closed the connection. */
  async closeSession(name: string, o: OpOptions = {}): Promise<void> {
    await this.record(name, 'closeSession', null, o, () => this.client(name).request(-11, null));
    await this.expectClosed(name, 5_000, o.label ?? `closeSession ${name}`);
  }

  /**
   * Runs `step` on a fresh throwaway client `name` (for requests that may make a server close
   * the connection), then records whether the server closed it; closes the session if not.
   */
  async probe(name: string, step: () => Promise<unknown>, close_wait_ms = 500): Promise<void> {
    // Local investigation aid: WAITFREE_DIFF_SKIP_PROBES=e7,uk skips probes that crash a server,
    // so the rest of the script can be compared.
    const skip = (process.env.WAITFREE_DIFF_SKIP_PROBES ?? '').split(',').map((x) => x.trim());
    if (skip.includes(name)) {
      this.note(`probe ${name}`, 'skipped (WAITFREE_DIFF_SKIP_PROBES)');
      return;
    }
    await this.connect(name);
    try {
      await step();
    } catch (e) {
      if (!(e instanceof ScriptAborted)) throw e;
      this.drop(name);
      return;
    }
    await this.expectClosed(name, close_wait_ms, `after probe ${name}`);
    const st = this.clients.get(name);
    if (st !== undefined && !st.wire.isClosed()) await this.closeSession(name, { label: `close probe ${name}` });
  }

  /**
   * After an aborted section: reconnects each named client whose connection is gone (or stuck),
   * so later sections still run. Lines show it, so the diff shows where it happened.
   */
  async revive(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const st = this.clients.get(name);
      if (st === undefined || (!st.wire.isClosed() && !this.stuck.has(name))) continue;
      this.stuck.delete(name);
      st.wire.destroy();
      this.clients.delete(name);
      await this.connect(name, {}, { label: `revive ${name}` });
    }
  }

  /** Drops a client's TCP connection without closing its session. */
  drop(name: string): void {
    const st = this.clients.get(name);
    if (st === undefined) throw new Error(`no client ${name}`);
    st.wire.destroy();
  }

  /** Closes every client still open (closeSession), printing any unprinted notifications. */
  async closeAll(): Promise<void> {
    this.begin('end');
    for (const [name, st] of this.clients) {
      if (st.wire.isClosed()) {
        this.printNotifications(name, st, this.full(`close ${name}`));
        continue;
      }
      await this.closeSession(name);
    }
  }

  text(): string {
    return this.lines.map((l) => `${l.label} | ${l.text}`).join('\n');
  }
}

function pathOf(body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const b = body as { path?: unknown; prefixPath?: unknown };
    if (typeof b.path === 'string') return ` ${b.path}`;
    if (typeof b.prefixPath === 'string') return ` ${b.prefixPath}`;
  }
  return '';
}
