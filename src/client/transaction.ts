// multi and multiRead: the builder the application uses, and the translation between its ops
// and the wire's MultiOp / MultiResult lists (chroot applied both ways). A failed multi applies
// nothing; every result is then an ErrorResult: 0 before the failing op, its code at it,
// RUNTIMEINCONSISTENCY (-2) after it.

import { Err } from '../protocol/errors.js';
import { Op } from '../protocol/opcodes.js';
import { validatePath } from '../protocol/paths.js';
import type { ACL, MultiOp, MultiResult, Stat } from '../protocol/types.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import type { Chroot } from './chroot.js';
import { resolveCreateMode, type CreateModeName } from './create_mode.js';
import { MultiError, ZooKeeperError, type MultiOpError } from './errors.js';
import type { CallOptions } from './request_engine.js';

export type Data = string | Uint8Array | null | undefined;

export interface CreateOpOptions {
  mode?: CreateModeName;
  acl?: readonly ACL[];
  /** Time to live for TTL nodes (turns persistent modes into their TTL twins). */
  ttl_ms?: number;
}

export type TxnOp =
  | { op: 'create'; path: string; data?: Data; options?: CreateOpOptions }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Data; version?: number }
  | { op: 'check'; path: string; version: number };

export type TxnResult =
  | { op: 'create'; path: string; stat?: Stat }
  | { op: 'delete' }
  | { op: 'setData'; stat: Stat }
  | { op: 'check' };

export type ReadOp = { op: 'getData'; path: string } | { op: 'getChildren'; path: string };

export type ReadResult =
  | { op: 'getData'; data: Buffer | null; stat: Stat }
  | { op: 'getChildren'; children: string[] }
  | { op: 'error'; error: ZooKeeperError };

export function toBytes(data: Data): Uint8Array | null {
  if (data === null || data === undefined) return null;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export function asBuffer(b: Uint8Array | null): Buffer | null {
  return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function checkPath(path: string, op: string, sequential = false): void {
  const reason = validatePath(path, sequential);
  if (reason !== null) throw new ZooKeeperError(Err.BADARGUMENTS, { op, path, detail: reason });
}

function createOp(o: Extract<TxnOp, { op: 'create' }>, chroot: Chroot): MultiOp {
  const mode = resolveCreateMode(o.options?.mode ?? 'persistent', o.options?.ttl_ms);
  checkPath(o.path, 'multi create', mode.sequential);
  const request = { path: chroot.toServer(o.path), data: toBytes(o.data), acl: [...(o.options?.acl ?? OPEN_ACL_UNSAFE)], flags: mode.flags };
  if (mode.ttl) return { type: Op.createTTL, request: { ...request, ttl: o.options?.ttl_ms ?? 0 } };
  return { type: mode.opcode === Op.createContainer ? Op.createContainer : Op.create, request };
}

export function toMultiOps(ops: readonly TxnOp[], chroot: Chroot): MultiOp[] {
  return ops.map((o): MultiOp => {
    if (o.op === 'create') return createOp(o, chroot);
    checkPath(o.path, `multi ${o.op}`);
    const path = chroot.toServer(o.path);
    if (o.op === 'delete') return { type: Op.delete, request: { path, version: o.version ?? -1 } };
    if (o.op === 'setData') return { type: Op.setData, request: { path, data: toBytes(o.data), version: o.version ?? -1 } };
    return { type: Op.check, request: { path, version: o.version } };
  });
}

/** Throws MultiError when the multi failed; else one TxnResult per op. */
export function fromMultiResults(results: readonly MultiResult[], ops: readonly TxnOp[], chroot: Chroot): TxnResult[] {
  const errors: MultiOpError[] = results.map((r, index) => {
    const errno = r.type === Op.error ? r.response.err : 0;
    return { index, errno, code: new ZooKeeperError(errno).code };
  });
  const failed = errors.find((e) => e.errno !== 0 && e.errno !== Err.RUNTIMEINCONSISTENCY) ?? errors.find((e) => e.errno !== 0);
  if (failed !== undefined) throw new MultiError(failed.errno, failed.index, errors, { op: 'multi', path: ops[failed.index]?.path });
  return results.map((r): TxnResult => {
    switch (r.type) {
      case Op.create:
        return { op: 'create', path: chroot.fromServer(r.response.path) };
      case Op.create2:
      case Op.createContainer:
      case Op.createTTL:
        return { op: 'create', path: chroot.fromServer(r.response.path), stat: r.response.stat };
      case Op.setData:
        return { op: 'setData', stat: r.response.stat };
      case Op.delete:
        return { op: 'delete' };
      case Op.check:
        return { op: 'check' };
      default:
        throw new ZooKeeperError(Err.MARSHALLINGERROR, { op: 'multi', detail: `unexpected result type ${r.type}` });
    }
  });
}

export function toReadOps(ops: readonly ReadOp[], chroot: Chroot): MultiOp[] {
  return ops.map((o): MultiOp => {
    checkPath(o.path, `multiRead ${o.op}`);
    const request = { path: chroot.toServer(o.path), watch: false };
    return o.op === 'getData' ? { type: Op.getData, request } : { type: Op.getChildren, request };
  });
}

export function fromReadResults(results: readonly MultiResult[], ops: readonly ReadOp[]): ReadResult[] {
  return results.map((r, i): ReadResult => {
    if (r.type === Op.getData) return { op: 'getData', data: asBuffer(r.response.data), stat: r.response.stat };
    if (r.type === Op.getChildren) return { op: 'getChildren', children: r.response.children };
    const errno = r.type === Op.error ? r.response.err : Err.MARSHALLINGERROR;
    return { op: 'error', error: new ZooKeeperError(errno, { op: `multiRead ${ops[i]?.op}`, path: ops[i]?.path }) };
  });
}

/** Collects ops; commit() sends them as one multi (all or nothing). */
export class Transaction {
  private readonly ops: TxnOp[] = [];

  constructor(private readonly run: (ops: TxnOp[], opts?: CallOptions) => Promise<TxnResult[]>) {}

  create(path: string, data?: Data, options?: CreateOpOptions): this {
    this.ops.push({ op: 'create', path, data, options });
    return this;
  }

  delete(path: string, version = -1): this {
    this.ops.push({ op: 'delete', path, version });
    return this;
  }

  setData(path: string, data: Data, version = -1): this {
    this.ops.push({ op: 'setData', path, data, version });
    return this;
  }

  check(path: string, version: number): this {
    this.ops.push({ op: 'check', path, version });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  commit(opts?: CallOptions): Promise<TxnResult[]> {
    return this.run([...this.ops], opts);
  }
}
