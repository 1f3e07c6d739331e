// ACL lists in the arena (writer side): one immutable blob per distinct list (layout.ts, "ACL
// blob"), interned by content and reference-counted by the znodes of the newest tree. A list
// no node refers to any more is released like a replaced page (older roots may still use it).
// Readers decode a blob with decodeAclWire, or copy its wire bytes into a getACL reply.

import type { ACL } from '../../protocol/types.js';
import { copyBytes } from './bytes.js';
import { ArenaInvariantError, check, fail } from './errors.js';
import { ACL_LENGTH, ACL_SERIAL, ACL_WIRE } from './layout.js';
import type { ArenaHeap } from './heap.js';
import type { ArenaMemory } from './memory.js';
import { utf8Strict } from '../../protocol/utf8.js';

const encoder = new TextEncoder();

/** vector<ACL> as jute writes it: i32 count, then per ACL: i32 perms, ustring scheme, ustring id. */
export function encodeAclWire(acl: readonly ACL[]): Uint8Array {
  const parts = acl.map((a) => [encoder.encode(a.id.scheme), encoder.encode(a.id.id)] as const);
  let bytes = 4;
  for (const [scheme, id] of parts) bytes += 12 + scheme.length + id.length;
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, acl.length);
  let o = 4;
  acl.forEach((a, i) => {
    const [scheme, id] = parts[i];
    dv.setInt32(o, a.perms);
    dv.setInt32(o + 4, scheme.length);
    out.set(scheme, o + 8);
    o += 8 + scheme.length;
    dv.setInt32(o, id.length);
    out.set(id, o + 4);
    o += 4 + id.length;
  });
  return out;
}

/** Decodes a vector<ACL> (wire form); throws on malformed bytes. */
export function decodeAclWire(u8: Uint8Array, off: number, len: number): ACL[] {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  const end = off + len;
  const need = (o: number, n: number): void => check(n >= 0 && o + n <= end, 'ACL bytes truncated');
  need(off, 4);
  const count = dv.getInt32(off);
  if (!(count >= 0 && count <= len / 12)) fail(`ACL count ${count}`);
  const acl: ACL[] = [];
  let o = off + 4;
  const str = (): string => {
    need(o, 4);
    const n = dv.getInt32(o);
    need(o + 4, n);
    const s = utf8Strict.decode(u8.slice(o + 4, o + 4 + n));
    o += 4 + n;
    return s;
  };
  for (let i = 0; i < count; i++) {
    need(o, 4);
    const perms = dv.getInt32(o);
    o += 4;
    const scheme = str();
    const id = str();
    acl.push({ perms, id: { scheme, id } });
  }
  check(o === end, 'ACL bytes have trailing garbage');
  return acl;
}

function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

function contentKey(wire: Uint8Array, off: number, len: number): string {
  return Buffer.from(wire.buffer, wire.byteOffset + off, len).toString('latin1');
}

export class AclStore {
  private readonly by_content = new Map<string, number>();
  private readonly refs = new Map<number, number>();
  private readonly content_of = new Map<number, string>();
  private serial = 0;
  /** The last list interned (txns share ACL arrays, and most creates of a workload repeat one
   *  list): one equal to it by content skips encoding and the content map (~1.8 us a create). */
  private last_list: readonly ACL[] | null = null;
  private last_addr = 0;

  constructor(
    private readonly mem: ArenaMemory,
    private readonly heap: ArenaHeap,
    private readonly release: (addr: number) => void,
  ) {}

  /** Distinct lists in the newest tree. */
  get size(): number {
    return this.refs.size;
  }

  /** The blob for `acl`, with one more reference. */
  intern(acl: readonly ACL[]): number {
    if (this.last_list !== null && sameAcl(acl, this.last_list)) {
      this.ref(this.last_addr);
      return this.last_addr;
    }
    const wire = encodeAclWire(acl);
    const addr = this.internWire(wire, 0, wire.length);
    this.last_list = acl;
    this.last_addr = addr;
    return addr;
  }

  /** The blob for a list given in wire form, with one more reference. */
  internWire(wire: Uint8Array, off: number, len: number): number {
    const key = contentKey(wire, off, len);
    const known = this.by_content.get(key);
    if (known !== undefined) {
      this.ref(known);
      return known;
    }
    const addr = this.heap.allocBlob(ACL_WIRE + len);
    const seg = this.mem.segOf(addr);
    const o = this.mem.offOf(addr);
    this.serial = (this.serial + 1) >>> 0 || 1;
    this.mem.dv[seg].setUint32(o + ACL_SERIAL, this.serial);
    this.mem.dv[seg].setUint32(o + ACL_LENGTH, len);
    copyBytes(this.mem.u8[seg], o + ACL_WIRE, wire, off, len);
    this.by_content.set(key, addr);
    this.content_of.set(addr, key);
    this.refs.set(addr, 1);
    return addr;
  }

  ref(addr: number): void {
    const n = this.refs.get(addr);
    if (n === undefined) throw new ArenaInvariantError(`ACL ${addr} is not interned`);
    this.refs.set(addr, n + 1);
  }

  /** n more references (bulk loading). */
  refBy(addr: number, n: number): void {
    const refs = this.refs.get(addr);
    if (refs === undefined) throw new ArenaInvariantError(`ACL ${addr} is not interned`);
    this.refs.set(addr, refs + n);
  }

  unref(addr: number): void {
    const n = this.refs.get(addr);
    if (n === undefined) throw new ArenaInvariantError(`ACL ${addr} is not interned`);
    if (n > 1) {
      this.refs.set(addr, n - 1);
      return;
    }
    this.refs.delete(addr);
    this.by_content.delete(this.content_of.get(addr)!);
    this.content_of.delete(addr);
    if (addr === this.last_addr) this.last_list = null;
    this.release(addr);
  }

  refsOf(addr: number): number {
    return this.refs.get(addr) ?? 0;
  }
}
