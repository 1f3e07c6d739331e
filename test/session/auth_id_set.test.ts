import { describe, expect, it } from 'vitest';
import type { Id } from '../../src/protocol/types.js';
import { addAuthId } from '../../src/session/auth_id_set.js';

const sasl = (id: string): Id => ({ scheme: 'sasl', id });
const names = (ids: readonly Id[]): string[] => ids.map((x) => `${x.scheme}:${x.id}`);

function added(ids: readonly Id[]): Id[] {
  const out: Id[] = [];
  for (const id of ids) addAuthId(out, id);
  return out;
}

describe('a connection’s ids in ZooKeeper’s order', () => {
  it('lists a SASL superUser as ZooKeeper 3.8 does (measured): super, ip, sasl, whatever the order they came in', () => {
    const ip = { scheme: 'ip', id: '127.0.0.1' };
    const sup = { scheme: 'super', id: '' };
    expect(names(added([ip, sasl('jaasuser'), sup]))).toEqual(['super:', 'ip:127.0.0.1', 'sasl:jaasuser']);
    expect(names(added([sup, sasl('jaasuser'), ip]))).toEqual(['super:', 'ip:127.0.0.1', 'sasl:jaasuser']);
  });

  it('keeps ids of one hash bin in the order they were added', () => {
    // user0, user14 and user25 share bin 10 of 16; user1 is in bin 9.
    expect(names(added([sasl('user14'), sasl('user0'), sasl('user1'), sasl('user25')]))).toEqual(['sasl:user1', 'sasl:user14', 'sasl:user0', 'sasl:user25']);
    expect(names(added([sasl('user25'), sasl('user0'), sasl('user14')]))).toEqual(['sasl:user25', 'sasl:user0', 'sasl:user14']);
  });

  it('adds an id once', () => {
    const ids: Id[] = [];
    expect(addAuthId(ids, sasl('a'))).toBe(true);
    expect(addAuthId(ids, { scheme: 'sasl', id: 'a' })).toBe(false);
    expect(addAuthId(ids, { scheme: 'digest', id: 'a' })).toBe(true);
    expect(ids).toHaveLength(2);
  });

  it('holds every id once past the table’s first resize (12 ids)', () => {
    const all = Array.from({ length: 30 }, (_, i) => sasl(`user${i}`));
    const ids = added(all);
    expect([...names(ids)].sort()).toEqual([...names(all)].sort());
  });
});
