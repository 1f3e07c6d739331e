// The public client: a Promise API over every operation of the ZooKeeper protocol. Each method
// validates its path, applies the chroot, and describes the call (opcode, body, how the reply
// becomes a result, which watch a reply registers, whether and how a retry after a connection
// loss is safe) for the request engine to run.
//
// Retry rules (after CONNECTIONLOSS, while the session lives):
// - reads, sync, addWatch, removeWatches: re-sent;
// - setData / delete / setACL with a version: re-sent; a BADVERSION / NONODE answer to the
//   re-sent request is checked against the node (did our first attempt apply?);
// - non-sequential create: re-sent; NODEEXISTS is checked (our session's ephemeral, or a node
//   created after we sent with our data);
// - sequential create: only with `protected: true` (the name carries an id the client looks for
//   before creating again); never otherwise;
// - unconditional setData/delete (version -1) and multi: never.

import type { ConnectionOptions } from 'node:tls';
import { Err } from '../protocol/errors.js';
import { AddWatchMode, WatcherType } from '../protocol/constants.js';
import { Op } from '../protocol/opcodes.js';
import { baseName, parentPath } from '../protocol/paths.js';
import type { ACL, ClientInfo, Stat } from '../protocol/types.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import { parseConnectString } from './connect_string.js';
import type { SessionState } from './connection_core.js';
import { resolveCreateMode, type CreateModeName } from './create_mode.js';
import { isZooKeeperError, ZooKeeperError } from './errors.js';
import { hasProtectionId, newProtectionId, protectedPath } from './protected_names.js';
import { RequestEngine, UNGATED, type CallOptions, type SessionEvent, type StateListener } from './request_engine.js';

/** Options of the lookups a retry makes while its call holds an outstanding-request permit. */
const INNER: CallOptions = { retry: false, [UNGATED]: true };
import {
  asBuffer,
  checkPath,
  fromMultiResults,
  fromReadResults,
  toBytes,
  toMultiOps,
  toReadOps,
  Transaction,
  type Data,
  type ReadOp,
  type ReadResult,
  type TxnOp,
  type TxnResult,
} from './transaction.js';
import { WATCH_KINDS, type WatchKind, type WatchListener } from './watch_registry.js';
import { WATCH_BUFFERED_MAX_DEFAULT, WatchStream } from './watch_stream.js';

export interface ClientOptions {
  /** Requested session timeout (the server clamps it). Default 30 000. */
  sessionTimeout_ms?: number;
  /** For ZooKeeperClient.connect(): how long to wait for the first session. Default 15 000. */
  connectTimeout_ms?: number;
  /** Most requests in flight at once; more wait their turn (in order). Default 1000. */
  maxOutstanding?: number;
  /** Default per-call timeout; none by default. */
  requestTimeout_ms?: number;
  /** Attempts per call when a retry is safe. Default 10; 1 disables retries. */
  retryAttempts?: number;
  /** Credentials sent before any request, and again on every reconnect. */
  auth?: readonly { scheme: string; auth: string | Uint8Array }[];
  /** Pause after every host failed once in a row. Default 200. */
  reconnectDelay_ms?: number;
  /** Largest reply accepted. Default 64 MiB (the server's jute.maxbuffer is the real limit). */
  maxFrame_bytes?: number;
  /** Try hosts in random order (spreads clients over an ensemble). Default true. */
  shuffleHosts?: boolean;
  /** Resume an existing session instead of opening a new one. */
  session?: { id: bigint; passwd: Uint8Array };
  /**
   * Report 'expired' once no server could be reached for a whole session timeout (the servers
   * expire it then). Default true; false waits until a server says so.
   */
  expireWhenUnreachable?: boolean;
  /**
   * Connect over TLS, to servers' secure client ports (`secureClientPort`): Node's
   * tls.connect options, e.g. `{ ca, key, cert }` (a client certificate the server verifies
   * gives the session the id x509:<subject>). Unset: plain TCP.
   */
  tls?: ConnectionOptions;
}

export interface WatchOption {
  /** One-shot watch: called once on the next change of the node (or its children). */
  watch?: WatchListener;
}

export interface CreateOptions extends CallOptions {
  mode?: CreateModeName;
  acl?: readonly ACL[];
  ttl_ms?: number;
  /**
   * Protected name (`_c_<uuid>-` before the last segment), so that a create interrupted by a
   * connection loss is found again instead of done twice. Needed to retry sequential creates.
   */
  protected?: boolean;
}

export type PersistentWatchMode = 'persistent' | 'persistentRecursive';
export type RemovableWatchType = 'data' | 'children' | 'persistent' | 'persistentRecursive' | 'any';

export interface RemoveWatchesOptions extends CallOptions {
  /** Remove only this listener (the server watch goes once no listener is left). */
  listener?: WatchListener;
  /** Remove locally even if the server cannot be reached (WatcherType local flag). */
  local?: boolean;
}

/** Which local kinds a WatcherType covers, and the wire type for each kind. */
const REMOVE_KINDS: Readonly<Record<RemovableWatchType, readonly WatchKind[]>> = {
  data: ['data', 'exist'],
  children: ['child'],
  persistent: ['persistent'],
  persistentRecursive: ['persistentRecursive'],
  any: ['data', 'exist', 'child', 'persistent', 'persistentRecursive'],
};
const WIRE_WATCHER_TYPE: Readonly<Record<WatchKind, number>> = {
  data: WatcherType.Data,
  exist: WatcherType.Data,
  child: WatcherType.Children,
  persistent: WatcherType.Persistent,
  persistentRecursive: WatcherType.PersistentRecursive,
};
const CHECK_WIRE_TYPE: Readonly<Record<RemovableWatchType, number>> = {
  data: WatcherType.Data,
  children: WatcherType.Children,
  persistent: WatcherType.Persistent,
  persistentRecursive: WatcherType.PersistentRecursive,
  any: WatcherType.Any,
};
const REMOVED_EVENT = {
  data: 'DataWatchRemoved',
  exist: 'DataWatchRemoved',
  child: 'ChildWatchRemoved',
  persistent: 'PersistentWatchRemoved',
  persistentRecursive: 'PersistentWatchRemoved',
} as const;

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return (a?.length ?? 0) === 0 && (b?.length ?? 0) === 0;
  return Buffer.compare(a, b) === 0;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class ZooKeeperClient {
  private readonly engine: RequestEngine;
  readonly connectString: string;
  private readonly connect_timeout_ms: number;

  /** Starts connecting at once; requests made before the session exists wait for it. */
  constructor(connectString: string, opts: ClientOptions = {}) {
    const parsed = parseConnectString(connectString);
    this.connectString = connectString;
    this.connect_timeout_ms = opts.connectTimeout_ms ?? 15_000;
    const session_timeout_ms = opts.sessionTimeout_ms ?? 30_000;
    this.engine = new RequestEngine({
      hosts: opts.shuffleHosts === false ? parsed.hosts : shuffled(parsed.hosts),
      chroot: parsed.chroot,
      session_timeout_ms,
      reconnect_delay_ms: opts.reconnectDelay_ms ?? 200,
      close_timeout_ms: Math.max(1000, Math.min(5000, session_timeout_ms)),
      outstanding_max: opts.maxOutstanding ?? 1000,
      frame_bytes_max: opts.maxFrame_bytes ?? 64 * 1024 * 1024,
      tls: opts.tls ?? null,
      retry_attempts_max: Math.max(1, opts.retryAttempts ?? 10),
      timeout_ms: opts.requestTimeout_ms,
      session: opts.session,
      expire_when_unreachable: opts.expireWhenUnreachable ?? true,
    });
    for (const a of opts.auth ?? []) void this.addAuth(a.scheme, a.auth).catch(() => undefined);
  }

  /** Connects and waits for the session; closes the client and throws if that fails. */
  static async connect(connectString: string, opts: ClientOptions = {}): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient(connectString, opts);
    try {
      await client.ready();
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  // ---- session ----

  get state(): SessionState {
    return this.engine.state;
  }
  get sessionId(): bigint {
    return this.engine.session_id;
  }
  get sessionPasswd(): Uint8Array {
    return this.engine.passwd;
  }
  get negotiatedTimeout_ms(): number {
    return this.engine.negotiated_timeout_ms;
  }
  /** Highest zxid seen in a reply. */
  get lastZxid(): number {
    return this.engine.last_zxid;
  }
  /** "host:port" of the server the client is connected to, or null. */
  get host(): string | null {
    return this.engine.host;
  }

  /** Session state changes: connecting -> connected <-> disconnected -> expired | closed. */
  on(event: 'state', listener: StateListener): () => void {
    if (event !== 'state') throw new Error(`unknown event ${String(event)}`);
    return this.engine.onState(listener);
  }

  /** Resolves when the client is connected; rejects if the session ends first or on timeout. */
  ready(opts: { timeout_ms?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.waitForState(['connected'], { timeout_ms: this.connect_timeout_ms, ...opts }).then(() => undefined);
  }

  /** Resolves with the first of `states` reached (at once if already there). */
  waitForState(states: readonly SessionState[], opts: { timeout_ms?: number; signal?: AbortSignal } = {}): Promise<SessionState> {
    if (states.includes(this.state)) return Promise.resolve(this.state);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        off();
        if (timer !== undefined) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const off = this.on('state', (e: SessionEvent) => {
        if (states.includes(e.state)) {
          done();
          resolve(e.state);
        } else if (e.state === 'expired' || e.state === 'closed') {
          done();
          reject(new ZooKeeperError(e.state === 'expired' ? Err.SESSIONEXPIRED : Err.CONNECTIONLOSS, { detail: `client ${e.state} (${e.reason})` }));
        }
      });
      const onAbort = (): void => {
        done();
        reject(opts.signal?.reason);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeout_ms !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(new ZooKeeperError(Err.CONNECTIONLOSS, { detail: `not ${states.join('/')} after ${opts.timeout_ms} ms (state ${this.state})` }));
        }, opts.timeout_ms);
      }
    });
  }

  /** Ends the session (its ephemeral nodes go at once). Idempotent. */
  close(): Promise<void> {
    return this.engine.close();
  }

  addAuth(scheme: string, auth: string | Uint8Array): Promise<void> {
    return this.engine.addAuth(scheme, typeof auth === 'string' ? Buffer.from(auth, 'utf8') : auth);
  }

  // ---- create ----

  /** Creates a node; resolves with its path (with the sequence suffix for sequential modes). */
  async create(path: string, data?: Data, opts: CreateOptions = {}): Promise<string> {
    return (await this.createImpl(path, data, opts, false)).path;
  }

  /** Like create, and also returns the new node's Stat (opcode create2). */
  create2(path: string, data?: Data, opts: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    return this.createImpl(path, data, opts, true) as Promise<{ path: string; stat: Stat }>;
  }

  private createImpl(path: string, data: Data, opts: CreateOptions, with_stat: boolean): Promise<{ path: string; stat?: Stat }> {
    const mode = resolveCreateMode(opts.mode ?? 'persistent', opts.ttl_ms);
    checkPath(path, 'create', mode.sequential);
    const pid = opts.protected === true ? newProtectionId() : null;
    const wire_path = pid === null ? path : protectedPath(path, pid);
    const bytes = toBytes(data);
    const request = { path: this.engine.chroot.toServer(wire_path), data: bytes, acl: [...(opts.acl ?? OPEN_ACL_UNSAFE)], flags: mode.flags };
    const type = with_stat ? mode.opcode2 : mode.opcode;
    const zxid_before = this.engine.last_zxid;
    const fromServer = (p: string) => this.engine.chroot.fromServer(p);
    const common = {
      op: 'create',
      path,
      retry: mode.sequential && pid === null ? ('never' as const) : ('safe' as const),
      recover: pid === null ? undefined : () => this.findProtected(path, pid, with_stat),
      afterRetryError:
        pid !== null || mode.sequential ? undefined : (e: ZooKeeperError) => this.createdByUs(e, path, bytes, mode.ephemeral, zxid_before, with_stat),
    };
    if (mode.ttl) {
      const body = { ...request, ttl: opts.ttl_ms ?? 0 };
      return this.engine.call({ ...common, type: Op.createTTL, body, result: (r) => ({ path: fromServer(r.path), stat: r.stat }) }, opts);
    }
    if (type === Op.create) {
      return this.engine.call({ ...common, type: Op.create, body: request, result: (r) => ({ path: fromServer(r.path) }) }, opts);
    }
    const t = type === Op.createContainer ? Op.createContainer : Op.create2;
    return this.engine.call({ ...common, type: t, body: request, result: (r) => ({ path: fromServer(r.path), stat: r.stat }) }, opts);
  }

  /** After a connection loss: a child of the parent carrying our protection id is our node. */
  private async findProtected(path: string, pid: string, with_stat: boolean): Promise<{ value: { path: string; stat?: Stat } } | undefined> {
    const parent = parentPath(path);
    let children: string[];
    try {
      children = await this.getChildren(parent, INNER);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return undefined;
      throw e;
    }
    const name = children.find((c) => hasProtectionId(c, pid));
    if (name === undefined) return undefined;
    const found = parent === '/' ? `/${name}` : `${parent}/${name}`;
    if (!with_stat) return { value: { path: found } };
    const stat = await this.exists(found, INNER);
    return stat === null ? undefined : { value: { path: found, stat } };
  }

  /** NODEEXISTS after a re-sent create: ours if it is our session's ephemeral, or new with our data. */
  private async createdByUs(
    e: ZooKeeperError,
    path: string,
    bytes: Uint8Array | null,
    ephemeral: boolean,
    zxid_before: number,
    with_stat: boolean,
  ): Promise<{ path: string; stat?: Stat }> {
    if (e.code !== 'NODEEXISTS') throw e;
    const got = await this.getData(path, INNER).catch(() => null);
    if (got === null) throw e;
    const ours = ephemeral
      ? got.stat.ephemeralOwner === this.sessionId
      : got.stat.czxid > zxid_before && sameBytes(got.data, bytes);
    if (!ours) throw e;
    return with_stat ? { path, stat: got.stat } : { path };
  }

  // ---- delete / setData / setACL / check ----

  delete(path: string, version = -1, opts: CallOptions = {}): Promise<void> {
    checkPath(path, 'delete');
    const body = { path: this.engine.chroot.toServer(path), version };
    return this.engine.call(
      {
        op: 'delete',
        path,
        type: Op.delete,
        body,
        retry: version >= 0 ? 'safe' : 'never',
        result: () => undefined,
        // The node at that version is gone either way: by our first attempt or by someone else.
        afterRetryError: async (e) => {
          if (e.code !== 'NONODE') throw e;
        },
      },
      opts,
    );
  }

  setData(path: string, data: Data, version = -1, opts: CallOptions = {}): Promise<Stat> {
    checkPath(path, 'setData');
    const bytes = toBytes(data);
    const zxid_before = this.engine.last_zxid;
    return this.engine.call(
      {
        op: 'setData',
        path,
        type: Op.setData,
        body: { path: this.engine.chroot.toServer(path), data: bytes, version },
        retry: version >= 0 ? 'safe' : 'never',
        result: (r) => r.stat,
        afterRetryError: async (e) => {
          if (e.code !== 'BADVERSION') throw e;
          const got = await this.getData(path, INNER);
          const ours = got.stat.version === version + 1 && got.stat.mzxid > zxid_before && sameBytes(got.data, bytes);
          if (!ours) throw e;
          return got.stat;
        },
      },
      opts,
    );
  }

  /**
   * reconfig (ZooKeeper's ZooKeeperAdmin.reconfigure; the super user only, the server needs
   * reconfigEnabled=true): incremental with `joining` (comma-separated `server.N=spec` lines) and
   * `leaving` (comma-separated ids), or the whole membership with `members`; `from_config` is the
   * config version it applies to (-1, the default: any). Resolves with the new /zookeeper/config
   * and its Stat. Never re-sent after a connection loss (it is not idempotent by version).
   */
  reconfig(change: { joining?: string; leaving?: string; members?: string; from_config?: number }, opts: CallOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    const body = {
      joiningServers: change.joining ?? null,
      leavingServers: change.leaving ?? null,
      newMembers: change.members ?? null,
      curConfigId: change.from_config ?? -1,
    };
    return this.engine.call(
      { op: 'reconfig', path: '/zookeeper/config', type: Op.reconfig, body, retry: 'never', result: (r) => ({ data: asBuffer(r.data) ?? Buffer.alloc(0), stat: r.stat }) },
      opts,
    );
  }

  setACL(path: string, acl: readonly ACL[], version = -1, opts: CallOptions = {}): Promise<Stat> {
    checkPath(path, 'setACL');
    return this.engine.call(
      {
        op: 'setACL',
        path,
        type: Op.setACL,
        body: { path: this.engine.chroot.toServer(path), acl: [...acl], version },
        retry: version >= 0 ? 'safe' : 'never',
        result: (r) => r.stat,
        afterRetryError: async (e) => {
          if (e.code !== 'BADVERSION') throw e;
          const got = await this.getACL(path, INNER);
          if (got.stat.aversion !== version + 1 || JSON.stringify(got.acl) !== JSON.stringify(acl)) throw e;
          return got.stat;
        },
      },
      opts,
    );
  }

  /** Fails with BADVERSION unless the node is at `version` (-1: only that it exists). */
  check(path: string, version: number, opts: CallOptions = {}): Promise<Stat> {
    checkPath(path, 'check');
    return this.engine.call(
      { op: 'check', path, type: Op.check, body: { path: this.engine.chroot.toServer(path), version }, retry: 'safe', result: (r) => r.stat },
      opts,
    );
  }

  // ---- reads ----

  /** The node's Stat, or null when it does not exist. A watch fires on create, change or delete. */
  exists(path: string, opts: CallOptions & WatchOption = {}): Promise<Stat | null> {
    checkPath(path, 'exists');
    const watch = opts.watch;
    return this.engine.call(
      {
        op: 'exists',
        path,
        type: Op.exists,
        body: { path: this.engine.chroot.toServer(path), watch: watch !== undefined },
        retry: 'safe',
        onReply: (err) => {
          if (watch === undefined) return;
          if (err === 0) this.engine.watches.add('data', path, watch);
          else if (err === Err.NONODE) this.engine.watches.add('exist', path, watch);
        },
        result: (r) => r.stat,
        resultOnError: (err) => (err === Err.NONODE ? { value: null } : undefined),
      },
      opts,
    );
  }

  getData(path: string, opts: CallOptions & WatchOption = {}): Promise<{ data: Buffer | null; stat: Stat }> {
    checkPath(path, 'getData');
    const watch = opts.watch;
    return this.engine.call(
      {
        op: 'getData',
        path,
        type: Op.getData,
        body: { path: this.engine.chroot.toServer(path), watch: watch !== undefined },
        retry: 'safe',
        onReply: (err) => {
          if (watch !== undefined && err === 0) this.engine.watches.add('data', path, watch);
        },
        result: (r) => ({ data: asBuffer(r.data), stat: r.stat }),
      },
      opts,
    );
  }

  getChildren(path: string, opts: CallOptions & WatchOption = {}): Promise<string[]> {
    checkPath(path, 'getChildren');
    const watch = opts.watch;
    return this.engine.call(
      {
        op: 'getChildren',
        path,
        type: Op.getChildren,
        body: { path: this.engine.chroot.toServer(path), watch: watch !== undefined },
        retry: 'safe',
        onReply: (err) => {
          if (watch !== undefined && err === 0) this.engine.watches.add('child', path, watch);
        },
        result: (r) => r.children,
      },
      opts,
    );
  }

  /** getChildren plus the parent's Stat (opcode getChildren2). */
  getChildren2(path: string, opts: CallOptions & WatchOption = {}): Promise<{ children: string[]; stat: Stat }> {
    checkPath(path, 'getChildren2');
    const watch = opts.watch;
    return this.engine.call(
      {
        op: 'getChildren2',
        path,
        type: Op.getChildren2,
        body: { path: this.engine.chroot.toServer(path), watch: watch !== undefined },
        retry: 'safe',
        onReply: (err) => {
          if (watch !== undefined && err === 0) this.engine.watches.add('child', path, watch);
        },
        result: (r) => ({ children: r.children, stat: r.stat }),
      },
      opts,
    );
  }

  getACL(path: string, opts: CallOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    checkPath(path, 'getACL');
    return this.engine.call(
      { op: 'getACL', path, type: Op.getACL, body: { path: this.engine.chroot.toServer(path) }, retry: 'safe', result: (r) => ({ acl: r.acl, stat: r.stat }) },
      opts,
    );
  }

  /** Number of nodes below `path` (all descendants). */
  getAllChildrenNumber(path: string, opts: CallOptions = {}): Promise<number> {
    checkPath(path, 'getAllChildrenNumber');
    return this.engine.call(
      {
        op: 'getAllChildrenNumber',
        path,
        type: Op.getAllChildrenNumber,
        body: { path: this.engine.chroot.toServer(path) },
        retry: 'safe',
        result: (r) => r.totalNumber,
      },
      opts,
    );
  }

  /** This session's ephemeral nodes whose path starts with `prefix` (a plain string prefix). */
  getEphemerals(prefix = '/', opts: CallOptions = {}): Promise<string[]> {
    const chroot = this.engine.chroot;
    return this.engine.call(
      {
        op: 'getEphemerals',
        path: prefix,
        type: Op.getEphemerals,
        body: { prefixPath: chroot.toServer(prefix) },
        retry: 'safe',
        result: (r) => r.ephemerals.map((p) => chroot.fromServer(p)),
      },
      opts,
    );
  }

  /** Waits until the server this client talks to has applied every write committed before. */
  sync(path = '/', opts: CallOptions = {}): Promise<void> {
    checkPath(path, 'sync');
    return this.engine.call(
      { op: 'sync', path, type: Op.sync, body: { path: this.engine.chroot.toServer(path) }, retry: 'safe', result: () => undefined },
      opts,
    );
  }

  whoAmI(opts: CallOptions = {}): Promise<ClientInfo[]> {
    return this.engine.call({ op: 'whoAmI', type: Op.whoAmI, body: null, retry: 'safe', result: (r) => r.clientInfo }, opts);
  }

  // ---- multi ----

  transaction(): Transaction {
    return new Transaction((ops, opts) => this.multi(ops, opts));
  }

  /** Applies every op or none (throws MultiError naming the op that failed). Never retried. */
  multi(ops: readonly TxnOp[], opts: CallOptions = {}): Promise<TxnResult[]> {
    const chroot = this.engine.chroot;
    const wire = toMultiOps(ops, chroot);
    return this.engine.call(
      { op: 'multi', type: Op.multi, body: { ops: wire }, retry: 'never', result: (r) => fromMultiResults(r, ops, chroot) },
      opts,
    );
  }

  /** Several reads in one round trip; each result is independent (errors inline). */
  multiRead(ops: readonly ReadOp[], opts: CallOptions = {}): Promise<ReadResult[]> {
    const wire = toReadOps(ops, this.engine.chroot);
    return this.engine.call({ op: 'multiRead', type: Op.multiRead, body: { ops: wire }, retry: 'safe', result: (r) => fromReadResults(r, ops) }, opts);
  }

  // ---- persistent watches ----

  /** A persistent (or persistent-recursive) watch calling `listener` for every change until removed. */
  addWatch(path: string, listener: WatchListener, opts: CallOptions & { mode?: PersistentWatchMode } = {}): Promise<void> {
    checkPath(path, 'addWatch');
    const kind: WatchKind = opts.mode ?? 'persistent';
    const mode = kind === 'persistentRecursive' ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT;
    return this.engine.call(
      {
        op: 'addWatch',
        path,
        type: Op.addWatch,
        body: { path: this.engine.chroot.toServer(path), mode },
        retry: 'safe',
        onReply: (err) => {
          if (err === 0) this.engine.watches.add(kind, path, listener);
        },
        result: () => undefined,
      },
      opts,
    );
  }

  /**
   * A persistent watch as an async iterator: `for await (const ev of await zk.watch('/a'))`.
   * Breaking out of the loop (or close()) removes the watch. The stream ends with an error when
   * the session ends. After a reconnect the watch is re-registered, but changes made while
   * disconnected are not replayed: re-read on a 'connected' state event if you need them.
   */
  async watch(path: string, opts: CallOptions & { recursive?: boolean; buffered_max?: number } = {}): Promise<WatchStream> {
    const mode: PersistentWatchMode = opts.recursive === true ? 'persistentRecursive' : 'persistent';
    const stream: WatchStream = new WatchStream(
      path,
      () => this.removeWatches(path, mode, { listener: stream.listener }).catch((e) => {
        if (!isZooKeeperError(e, 'NOWATCHER', 'SESSIONEXPIRED', 'CONNECTIONLOSS')) throw e;
      }),
      opts.buffered_max ?? WATCH_BUFFERED_MAX_DEFAULT,
    );
    await this.addWatch(path, stream.listener, { ...opts, mode });
    this.engine.streams.add(stream);
    return stream;
  }

  /**
   * Removes watches of `type` on `path` (only `listener`'s when given). Listeners removed get a
   * *WatchRemoved event. NOWATCHER when the client holds no such watch.
   */
  async removeWatches(path: string, type: RemovableWatchType, opts: RemoveWatchesOptions = {}): Promise<void> {
    checkPath(path, 'removeWatches');
    const reg = this.engine.watches;
    const kinds = REMOVE_KINDS[type].filter((k) => reg.has(k, path));
    if (kinds.length === 0) throw new ZooKeeperError(Err.NOWATCHER, { op: 'removeWatches', path });
    const removed: Array<[WatchKind, WatchListener[]]> = kinds.map((k) => [k, reg.remove(k, path, opts.listener)]);
    // The server's watch of a wire type goes only when no local listener of that type is left.
    const still_held = (t: number) => WATCH_KINDS.some((k) => WIRE_WATCHER_TYPE[k] === t && reg.has(k, path));
    const wire_types = new Set(kinds.map((k) => WIRE_WATCHER_TYPE[k]).filter((t) => !still_held(t)));
    if (opts.local !== true) {
      for (const t of wire_types) await this.removeOnServer(path, t, opts);
    }
    for (const [kind, listeners] of removed) {
      this.engine.fire(listeners, { type: REMOVED_EVENT[kind], path, zxid: -1 });
      for (const s of this.engine.streams) if (listeners.includes(s.listener)) this.endStream(s);
    }
  }

  private endStream(s: WatchStream): void {
    s.end();
    this.engine.streams.delete(s);
  }

  private async removeOnServer(path: string, type: number, opts: CallOptions): Promise<void> {
    try {
      await this.removeOnServerAs(path, type, opts);
    } catch (e) {
      // Servers before 3.9 cannot remove persistent watches by type (ZOOKEEPER-4472) and fail the
      // request: remove every watch on the path (WatcherType.Any), then put back the ones this
      // client still holds there with SetWatches (which also reports changes missed meanwhile).
      const persistent = type === WatcherType.Persistent || type === WatcherType.PersistentRecursive;
      if (!persistent || !isZooKeeperError(e, 'MARSHALLINGERROR', 'UNIMPLEMENTED', 'BADARGUMENTS')) throw e;
      await this.removeOnServerAs(path, WatcherType.Any, opts);
      await this.reregister(path, opts);
    }
  }

  private removeOnServerAs(path: string, type: number, opts: CallOptions): Promise<void> {
    return this.engine.call(
      {
        op: 'removeWatches',
        path,
        type: Op.removeWatches,
        body: { path: this.engine.chroot.toServer(path), type },
        retry: 'safe',
        result: () => undefined,
        // Already gone on the server (fired, or the session moved on): nothing left to remove.
        resultOnError: (err) => (err === Err.NOWATCHER ? { value: undefined } : undefined),
      },
      opts,
    );
  }

  /** Re-sends this client's remaining watches on `path` (SetWatches relative to the last zxid). */
  private reregister(path: string, opts: CallOptions): Promise<void> {
    const reg = this.engine.watches;
    const on = (k: WatchKind) => (reg.has(k, path) ? [this.engine.chroot.toServer(path)] : []);
    const [data, exist, child, persistent, recursive] = WATCH_KINDS.map(on) as [string[], string[], string[], string[], string[]];
    if (data.length + exist.length + child.length + persistent.length + recursive.length === 0) return Promise.resolve();
    const base = { relativeZxid: this.engine.last_zxid, dataWatches: data, existWatches: exist, childWatches: child };
    const common = { op: 'setWatches', path, retry: 'safe' as const, result: () => undefined };
    if (persistent.length + recursive.length === 0) return this.engine.call({ ...common, type: Op.setWatches, body: base }, opts);
    const body = { ...base, persistentWatches: persistent, persistentRecursiveWatches: recursive };
    return this.engine.call({ ...common, type: Op.setWatches2, body }, opts);
  }

  /** Asks the server whether it holds a watch of `type` on `path` for this session. */
  checkWatches(path: string, type: RemovableWatchType, opts: CallOptions = {}): Promise<boolean> {
    checkPath(path, 'checkWatches');
    const wire = CHECK_WIRE_TYPE[type];
    return this.engine.call(
      {
        op: 'checkWatches',
        path,
        type: Op.checkWatches,
        body: { path: this.engine.chroot.toServer(path), type: wire },
        retry: 'safe',
        result: () => true,
        resultOnError: (err) => (err === Err.NOWATCHER ? { value: false } : undefined),
      },
      opts,
    );
  }

  // ---- conveniences ----

  /** Creates `path` and any missing parents (persistent, open ACL unless given). */
  async mkdirp(path: string, opts: CallOptions & { acl?: readonly ACL[]; data?: Data } = {}): Promise<void> {
    checkPath(path, 'mkdirp');
    if (path === '/') return;
    const parts = path.split('/').slice(1);
    for (let i = 1; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      const data = i === parts.length ? opts.data : undefined;
      try {
        await this.create(p, data, { acl: opts.acl, timeout_ms: opts.timeout_ms, signal: opts.signal });
      } catch (e) {
        if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
      }
    }
  }

  /** Deletes `path` and everything below it (children first). A missing node is not an error. */
  async deleteAll(path: string, opts: CallOptions = {}): Promise<void> {
    checkPath(path, 'deleteAll');
    let children: string[];
    try {
      children = await this.getChildren(path, opts);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return;
      throw e;
    }
    for (const c of children) await this.deleteAll(path === '/' ? `/${c}` : `${path}/${c}`, opts);
    if (path === '/') return;
    try {
      await this.delete(path, -1, opts);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
    }
  }
}

export { baseName, parentPath };
