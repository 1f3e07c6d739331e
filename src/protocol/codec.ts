// Schema compiler: turns a jute record schema (an ordered field list, as data) into a pair of
// read/write closures, once, at module load. The request path then runs the closures: no schema
// interpretation per call, no allocation beyond the decoded values and the result object.
//
// The record table itself lives in records.ts; this file knows nothing about particular records.

import { JuteError, type JuteReader, type JuteWriter } from './jute.js';

/**
 * Wire type of one field.
 * - 'int' int32; 'bool' one byte.
 * - 'long' int64 as bigint (session ids, ephemeralOwner); 'long53' int64 as a safe-integer number
 *   (zxids, times, TTLs).
 * - 'ustring' may be null (length -1); 'string' must not be (null on the wire is malformed).
 * - 'buffer' may be null; 'bytes' never is: a null on the wire reads as an empty array (jute has
 *   no non-null buffer; passwd/auth are "empty" either way).
 * - vectors never decode to null: a null vector reads as [] (ZooKeeper treats a null ACL or
 *   child list like an empty one).
 */
export type FieldType =
  | 'int'
  | 'long'
  | 'long53'
  | 'bool'
  | 'ustring'
  | 'string'
  | 'buffer'
  | 'bytes'
  | { readonly vector: FieldType }
  | { readonly record: string };

/** Fields in wire order: [name, type]. */
export type Schema = readonly (readonly [string, FieldType])[];

export interface Codec<T> {
  read(r: JuteReader): T;
  write(w: JuteWriter, value: T): void;
}

/** Returns the codec of a nested record by name (jute records are never recursive). */
export type CodecResolver = (record_name: string) => Codec<unknown>;

type AnyCodec = Codec<unknown>;

const readInt = (r: JuteReader): number => r.readInt();
const readLong = (r: JuteReader): bigint => r.readLong();
const readLong53 = (r: JuteReader): number => r.readLong53();
const readBool = (r: JuteReader): boolean => r.readBool();
const readUString = (r: JuteReader): string | null => r.readUString();
const readString = (r: JuteReader): string => r.readString();
const readBuffer = (r: JuteReader): Uint8Array | null => r.readBuffer();
const readBytes = (r: JuteReader): Uint8Array => r.readBuffer() ?? new Uint8Array(0);

function expectType(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new JuteError(`cannot encode ${typeof value} as ${what}`);
}

const PRIMITIVES: { readonly [K in Extract<FieldType, string>]: AnyCodec } = {
  int: { read: readInt, write: (w, v) => void w.writeInt(v as number) },
  long: {
    read: readLong,
    write: (w, v) => {
      expectType(typeof v === 'bigint', 'long', v);
      w.writeLong(v as bigint);
    },
  },
  long53: { read: readLong53, write: (w, v) => void w.writeLong53(v as number) },
  bool: {
    read: readBool,
    write: (w, v) => {
      expectType(typeof v === 'boolean', 'bool', v);
      w.writeBool(v as boolean);
    },
  },
  ustring: {
    read: readUString,
    write: (w, v) => {
      expectType(v === null || typeof v === 'string', 'ustring', v);
      w.writeUString(v as string | null);
    },
  },
  string: {
    read: readString,
    write: (w, v) => {
      expectType(typeof v === 'string', 'string', v);
      w.writeUString(v as string);
    },
  },
  buffer: {
    read: readBuffer,
    write: (w, v) => {
      expectType(v === null || v instanceof Uint8Array, 'buffer', v);
      w.writeBuffer(v as Uint8Array | null);
    },
  },
  bytes: {
    read: readBytes,
    write: (w, v) => {
      expectType(v instanceof Uint8Array, 'bytes', v);
      w.writeBuffer(v as Uint8Array);
    },
  },
};

function vectorCodec(element: AnyCodec): AnyCodec {
  const read_element = element.read;
  const write_element = element.write;
  return {
    read: (r) => r.readVector(read_element) ?? [],
    write: (w, v) => {
      expectType(Array.isArray(v), 'vector', v);
      w.writeVector(v as readonly unknown[], write_element);
    },
  };
}

export function fieldCodec(type: FieldType, resolve: CodecResolver): AnyCodec {
  if (typeof type === 'string') {
    const codec: AnyCodec | undefined = PRIMITIVES[type];
    if (codec === undefined) throw new Error(`unknown field type ${type}`);
    return codec;
  }
  if ('vector' in type) return vectorCodec(fieldCodec(type.vector, resolve));
  return resolve(type.record);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A name that is safe to paste into generated code as a property key. */
function isPlainFieldName(name: string): boolean {
  return IDENTIFIER.test(name) && name !== '__proto__';
}

function notARecord(value: unknown): never {
  throw new JuteError(`cannot encode ${value === null ? 'null' : typeof value} as a record`);
}

/**
 * Compiles a schema into a record codec by generating one small function per schema:
 *   read(r)     { return { czxid: f0(r), mzxid: f1(r), ... }; }
 *   write(w, v) { ...; f0(w, v.czxid); f1(w, v.mzxid); ... }
 * Why generate: a loop shared by every schema sees every record shape at the same property
 * accesses and call sites (megamorphic, ~3x slower on the request path); generated code has
 * its own, monomorphic ones and builds the result in one allocation with its final shape.
 * Field names come from our own tables and must be plain identifiers.
 */
export function compileSchema<T>(schema: Schema, resolve: CodecResolver): Codec<T> {
  const names = schema.map(([name]) => name);
  for (const name of names) if (!isPlainFieldName(name)) throw new Error(`bad field name ${name}`);
  const codecs = schema.map(([, type]) => fieldCodec(type, resolve));
  const params = names.map((_, i) => `f${i}`);
  const read_body = `return { ${names.map((n, i) => `${n}: f${i}(r)`).join(', ')} };`;
  const write_body = [
    "if (typeof v !== 'object' || v === null) notARecord(v);",
    ...names.map((n, i) => `f${i}(w, v.${n});`),
  ].join(' ');
  const makeRead = new Function(...params, `return function read(r) { ${read_body} };`);
  const makeWrite = new Function('notARecord', ...params, `return function write(w, v) { ${write_body} };`);
  return {
    read: makeRead(...codecs.map((c) => c.read)) as Codec<T>['read'],
    write: makeWrite(notARecord, ...codecs.map((c) => c.write)) as Codec<T>['write'],
  };
}
