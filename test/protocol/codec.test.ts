import { describe, expect, it } from 'vitest';
import { compileSchema, type Codec, type Schema } from '../../src/protocol/codec.js';
import { JuteError, JuteReader } from '../../src/protocol/jute.js';
import { hex, written } from './helpers.js';

const point: Codec<unknown> = compileSchema([['x', 'int'], ['y', 'int']], () => {
  throw new Error('no nested records');
});
const resolve = (name: string): Codec<unknown> => {
  if (name !== 'Point') throw new Error(`unknown ${name}`);
  return point;
};

describe('compileSchema', () => {
  it('encodes fields in schema order and decodes them back, nested records and vectors included', () => {
    const schema: Schema = [['name', 'string'], ['points', { vector: { record: 'Point' } }], ['tag', 'ustring']];
    const codec = compileSchema<unknown>(schema, resolve);
    const value = { name: 'p', points: [{ x: 1, y: -1 }], tag: null };
    const bytes = written((w) => codec.write(w, value));
    expect(bytes).toEqual(hex('00 00 00 01 70 | 00 00 00 01 | 00 00 00 01 ff ff ff ff | ff ff ff ff'));
    const decoded = codec.read(new JuteReader(bytes));
    expect(decoded).toEqual(value);
    expect(Object.keys(decoded as object)).toEqual(['name', 'points', 'tag']);
  });

  it('refuses field names that are not plain identifiers', () => {
    expect(() => compileSchema([['a-b', 'int']], resolve)).toThrow();
    expect(() => compileSchema([['__proto__', 'int']], resolve)).toThrow();
    expect(() => compileSchema([['x', 'int'], ['y); evil(', 'int']], resolve)).toThrow();
  });

  it('encoding a non-object as a record throws JuteError', () => {
    expect(() => written((w) => point.write(w, null))).toThrow(JuteError);
    expect(() => written((w) => point.write(w, 5))).toThrow(JuteError);
  });

  it('a missing int field throws JuteError rather than writing garbage', () => {
    expect(() => written((w) => point.write(w, { x: 1 }))).toThrow(JuteError);
  });
});
