// Promise wrapper over node-zookeeper-client (a CommonJS, callback-style third-party client).
// Only the parts the interop suite uses are typed here; errors keep the library's numeric code
// (`code`) so tests can compare against Err.* from our own error table.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface NzkId {
  scheme: string;
  id: string;
}
export interface NzkAcl {
  permission: number;
  id: NzkId;
}
export interface NzkStat {
  czxid: Buffer;
  mzxid: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}
export interface NzkEvent {
  type: number;
  name: string;
  path: string;
}
export interface NzkMultiResult {
  type: number;
  path?: string;
  stat?: NzkStat;
  err?: number;
}
interface NzkError extends Error {
  code: number;
}
type Cb<T> = (err: NzkError | null, value: T) => void;
type Watcher = (event: NzkEvent) => void;

interface NzkTransaction {
  create(path: string, data?: Buffer, acls?: NzkAcl[], mode?: number): NzkTransaction;
  check(path: string, version: number): NzkTransaction;
  setData(path: string, data: Buffer | null, version: number): NzkTransaction;
  remove(path: string, version: number): NzkTransaction;
  commit(cb: Cb<NzkMultiResult[]>): void;
}

interface RawClient {
  connect(): void;
  close(): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
  getSessionId(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: NzkAcl[], mode: number, cb: Cb<string>): void;
  remove(path: string, version: number, cb: Cb<void>): void;
  setData(path: string, data: Buffer | null, version: number, cb: Cb<NzkStat>): void;
  getData(path: string, watcher: Watcher | undefined, cb: (e: NzkError | null, d: Buffer, s: NzkStat) => void): void;
  getChildren(path: string, watcher: Watcher | undefined, cb: (e: NzkError | null, c: string[], s: NzkStat) => void): void;
  exists(path: string, watcher: Watcher | undefined, cb: Cb<NzkStat | null>): void;
  getACL(path: string, cb: (e: NzkError | null, acls: NzkAcl[], s: NzkStat) => void): void;
  setACL(path: string, acls: NzkAcl[], version: number, cb: Cb<NzkStat>): void;
  transaction(): NzkTransaction;
}

interface NzkModule {
  createClient(connect: string, opts: { sessionTimeout?: number; spinDelay?: number; retries?: number }): RawClient;
  ACL: new (perms: number, id: NzkId) => NzkAcl;
  Id: new (scheme: string, id: string) => NzkId;
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
}

export const nzk = require('node-zookeeper-client') as NzkModule;

export const OPEN_ACL: NzkAcl[] = [new nzk.ACL(nzk.Permission.ALL, new nzk.Id('world', 'anyone'))];

/** Error carrying the ZooKeeper error code the library reported. */
export class ZkCallError extends Error {
  constructor(
    readonly code: number,
    readonly op: string,
  ) {
    super(`${op}: error ${code}`);
  }
}

function settle<T>(op: string, resolve: (v: T) => void, reject: (e: Error) => void): Cb<T> {
  return (err, value) => (err ? reject(new ZkCallError(err.code, op)) : resolve(value));
}

/** Resolves to the error code of a call expected to fail, 0 if it succeeded. */
export async function errorCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof ZkCallError) return e.code;
    throw e;
  }
}

export interface ConnectOptions {
  sessionTimeout_ms?: number;
  /** (scheme, auth) pairs added before connecting, as `addAuthInfo` would. */
  auth?: Array<[string, string]>;
  connectTimeout_ms?: number;
}

/** A connected node-zookeeper-client with promise-returning operations. */
export class NzkClient {
  private constructor(readonly raw: RawClient) {}

  static connect(connectString: string, opts: ConnectOptions = {}): Promise<NzkClient> {
    const raw = nzk.createClient(connectString, { sessionTimeout: opts.sessionTimeout_ms ?? 10_000, spinDelay: 100 });
    for (const [scheme, auth] of opts.auth ?? []) raw.addAuthInfo(scheme, Buffer.from(auth));
    const timeout_ms = opts.connectTimeout_ms ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        raw.close();
        reject(new Error(`node-zookeeper-client: no connection to ${connectString} in ${timeout_ms} ms`));
      }, timeout_ms);
      raw.once('connected', () => {
        clearTimeout(timer);
        resolve(new NzkClient(raw));
      });
      raw.connect();
    });
  }

  /** Resolves when the library reports `event` ('expired', 'disconnected', 'authenticationFailed'). */
  waitForState(event: string, timeout_ms = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${event}' state in ${timeout_ms} ms`)), timeout_ms);
      this.raw.once(event, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  sessionId(): bigint {
    return this.raw.getSessionId().readBigInt64BE(0);
  }

  close(): void {
    this.raw.close();
  }

  addAuth(scheme: string, auth: string): void {
    this.raw.addAuthInfo(scheme, Buffer.from(auth));
  }

  create(path: string, data: string | null = null, mode = 0, acls: NzkAcl[] = OPEN_ACL): Promise<string> {
    const buf = data === null ? null : Buffer.from(data);
    return new Promise((res, rej) => this.raw.create(path, buf, acls, mode, settle('create', res, rej)));
  }

  remove(path: string, version = -1): Promise<void> {
    return new Promise((res, rej) => this.raw.remove(path, version, settle('remove', res, rej)));
  }

  setData(path: string, data: string, version = -1): Promise<NzkStat> {
    return new Promise((res, rej) => this.raw.setData(path, Buffer.from(data), version, settle('setData', res, rej)));
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: string | null; stat: NzkStat }> {
    return new Promise((res, rej) =>
      this.raw.getData(path, watcher, (e, d, stat) =>
        e ? rej(new ZkCallError(e.code, 'getData')) : res({ data: d ? d.toString('utf8') : null, stat }),
      ),
    );
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return new Promise((res, rej) =>
      this.raw.getChildren(path, watcher, (e, c) => (e ? rej(new ZkCallError(e.code, 'getChildren')) : res(c))),
    );
  }

  exists(path: string, watcher?: Watcher): Promise<NzkStat | null> {
    return new Promise((res, rej) => this.raw.exists(path, watcher, settle('exists', res, rej)));
  }

  getACL(path: string): Promise<{ acls: NzkAcl[]; stat: NzkStat }> {
    return new Promise((res, rej) =>
      this.raw.getACL(path, (e, acls, stat) => (e ? rej(new ZkCallError(e.code, 'getACL')) : res({ acls, stat }))),
    );
  }

  setACL(path: string, acls: NzkAcl[], version = -1): Promise<NzkStat> {
    return new Promise((res, rej) => this.raw.setACL(path, acls, version, settle('setACL', res, rej)));
  }

  /**
   * Runs a multi. Resolves with the per-op results whether it succeeded or not; `code` is the
   * library's overall error (0 = committed).
   */
  multi(build: (t: NzkTransaction) => void): Promise<{ code: number; results: NzkMultiResult[] }> {
    const t = this.raw.transaction();
    build(t);
    return new Promise((res) => t.commit((e, results) => res({ code: e ? e.code : 0, results: results ?? [] })));
  }
}

/** A one-shot watcher that records the events it receives. */
export function recordingWatcher(): { fn: Watcher; events: NzkEvent[] } {
  const events: NzkEvent[] = [];
  return { fn: (e) => events.push({ type: e.type, name: e.name, path: e.path }), events };
}

/** Reads an 8-byte big-endian long (zxid fields of node-zookeeper-client's Stat). */
export function long(b: Buffer): bigint {
  return b.readBigInt64BE(0);
}
