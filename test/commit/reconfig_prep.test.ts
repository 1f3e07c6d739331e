// Prep of reconfig (src/commit/reconfig_prep.ts): which error a client gets, in ZooKeeper's order,
// and the membership text a reconfig txn carries (what getConfig shows once it is applied).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepReconfig, type ReconfigPrepInput } from '../../src/commit/reconfig_prep.js';
import { parseQuorumConfigText, type Membership } from '../../src/config/quorum_config_text.js';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import type { ReconfigRequest } from '../../src/protocol/types.js';

const THREE = parseQuorumConfigText(
  [
    'server.1=127.0.0.1:2801:3801:participant;127.0.0.1:2181',
    'server.2=127.0.0.1:2802:3802:participant;127.0.0.1:2182',
    'server.3=127.0.0.1:2803:3803:participant;127.0.0.1:2183',
    'version=0',
  ].join('\n'),
);
const CONFIG_ACL = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
const ZXID = 0x1_0000_0007;

function input(over: Partial<ReconfigPrepInput> = {}): ReconfigPrepInput {
  return { enabled: true, ensemble: true, voters_min: 2, in_progress: false, current: THREE, synced: [1, 2, 3], zxid: ZXID, config_acl: CONFIG_ACL, auth: [], is_super: true, ...over };
}

function req(over: Partial<ReconfigRequest>): ReconfigRequest {
  return { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1, ...over };
}

/** The error code, or the new membership. */
function run(r: ReconfigRequest, i = input()): number | Membership {
  const { op } = prepReconfig(r, i);
  if (op.kind === 'error') return op.err;
  if (op.kind !== 'reconfig') throw new Error(`unexpected op ${op.kind}`);
  return parseQuorumConfigText(new TextDecoder().decode(op.data));
}

const OBSERVER = 'server.100=0.0.0.0:1234:2345:observer;0.0.0.0:3456';

describe('prepReconfig', () => {
  it('adds an observer: the joining line as ZooKeeper prints it, the version is the txn zxid', () => {
    const { op } = prepReconfig(req({ joiningServers: OBSERVER }), input());
    expect(op.kind).toBe('reconfig');
    const text = new TextDecoder().decode((op as { data: Uint8Array }).data);
    expect(text).toContain(OBSERVER);
    expect(text.split('\n').at(-1)).toBe('version=100000007');
    expect(text.split('\n')[0]).toBe('server.1=127.0.0.1:2801:3801:participant;127.0.0.1:2181');
  });

  it('removes an observer, moves one, and takes a whole membership (commas or newlines)', () => {
    const four = run(req({ joiningServers: OBSERVER })) as Membership;
    const without = run(req({ leavingServers: '100' }), input({ current: four })) as Membership;
    expect(without.members.map((m) => m.sid)).toEqual([1, 2, 3]);
    const moved = run(req({ joiningServers: 'server.100=127.0.0.2:1234:2345:observer;4000' }), input({ current: four })) as Membership;
    expect(moved.members.find((m) => m.sid === 100)).toMatchObject({ host: '127.0.0.2', client_port: 4000, role: 'observer' });
    const whole = THREE.members.map((m) => `server.${m.sid}=${m.host}:${m.quorum_port}:${m.election_port}:participant;${m.client_host}:${m.client_port}`);
    const all = run(req({ newMembers: [...whole, OBSERVER].join(',') })) as Membership;
    expect(all.members.map((m) => `${m.sid}:${m.role}`)).toEqual(['1:participant', '2:participant', '3:participant', '100:observer']);
  });

  it("answers in ZooKeeper's order: disabled, standalone, in progress, version, bad input, synced quorum, ACL", () => {
    const bad = req({ joiningServers: 'some thing' });
    expect(run(bad, input({ enabled: false, ensemble: false, in_progress: true, is_super: false }))).toBe(Err.RECONFIGDISABLED);
    expect(run(bad, input({ ensemble: false, in_progress: true, is_super: false }))).toBe(Err.UNIMPLEMENTED);
    expect(run(bad, input({ in_progress: true, is_super: false }))).toBe(Err.RECONFIGINPROGRESS);
    expect(run({ ...bad, curConfigId: 5 }, input({ is_super: false }))).toBe(Err.BADVERSION);
    // kazoo's test_bad_input: no super user, yet BADARGUMENTS (the ACL is checked last).
    expect(run(bad, input({ is_super: false }))).toBe(Err.BADARGUMENTS);
    expect(run(req({ leavingServers: '2' }), input({ is_super: false, synced: [1] }))).toBe(Err.NEWCONFIGNOQUORUM);
    expect(run(req({ leavingServers: '2' }), input({ is_super: false }))).toBe(Err.NOAUTH);
    // kazoo's test_no_super_auth.
    expect(run(req({ joiningServers: 'server.999=0.0.0.0:1234:2345:observer;3456' }), input({ is_super: false }))).toBe(Err.NOAUTH);
  });

  it('from_config: -1 or the current version pass, any other is BADVERSION', () => {
    const four = run(req({ joiningServers: OBSERVER })) as Membership;
    expect(run(req({ leavingServers: '100', curConfigId: ZXID }), input({ current: four, zxid: ZXID + 1 }))).toMatchObject({ version: ZXID + 1 });
    expect(run(req({ leavingServers: '100', curConfigId: ZXID + 1 }), input({ current: four }))).toBe(Err.BADVERSION);
  });

  it('bad input: no client port, a non-numeric id, fewer than 2 voters; an address taken is not checked (ZooKeeper 3.8)', () => {
    expect(run(req({ joiningServers: 'server.9=127.0.0.1:5000:5001:observer' }))).toBe(Err.BADARGUMENTS);
    expect(run(req({ joiningServers: 'server.9=127.0.0.1:2801:5001:observer;5002' }))).toMatchObject({ version: ZXID });
    expect(run(req({ joiningServers: 'server.x=127.0.0.1:5000:5001:observer;5002' }))).toBe(Err.MARSHALLINGERROR);
    expect(run(req({ leavingServers: 'two' }))).toBe(Err.MARSHALLINGERROR);
    expect(run(req({ newMembers: 'server.1=127.0.0.1:2801:3801;2181' }))).toBe(Err.BADARGUMENTS);
    // One voter is enough with standaloneEnabled=false (a one-voter ensemble adds an observer).
    const one = parseQuorumConfigText('server.1=127.0.0.1:2801:3801:participant;2181\nversion=0');
    expect(run(req({ joiningServers: OBSERVER }), input({ current: one }))).toBe(Err.BADARGUMENTS);
    expect(run(req({ joiningServers: OBSERVER }), input({ current: one, voters_min: 1 }))).toMatchObject({ version: ZXID });
    expect(run(req({ newMembers: 'flavour=vanilla' }))).toBe(Err.BADARGUMENTS);
  });

  it('voters change (join, leave, move, change roles) when the servers synced with the leader are a quorum of the new voters', () => {
    const roles = (m: number | Membership) => (m as Membership).members.map((x) => `${x.sid}:${x.role}`);
    // 3 -> 4 voters: three synced of four is a quorum.
    expect(roles(run(req({ joiningServers: 'server.4=127.0.0.1:2804:3804:participant;2184' })))).toEqual(['1:participant', '2:participant', '3:participant', '4:participant']);
    // 3 -> 5 voters with two new ones nobody synced: 3 of 5 still are.
    expect(run(req({ joiningServers: 'server.4=127.0.0.1:2804:3804:participant;2184,server.5=127.0.0.1:2805:3805:participant;2185' }))).toMatchObject({ version: ZXID });
    // ... but not with only two of the old voters synced (ZooKeeper's NEWCONFIGNOQUORUM).
    expect(run(req({ joiningServers: 'server.4=127.0.0.1:2804:3804:participant;2184,server.5=127.0.0.1:2805:3805:participant;2185' }), input({ synced: [1, 2] }))).toBe(
      Err.NEWCONFIGNOQUORUM,
    );
    // Moved, demoted to observer, removed.
    expect(run(req({ joiningServers: 'server.3=127.0.0.1:2903:3903:participant;127.0.0.1:2183' }))).toMatchObject({ version: ZXID });
    expect(roles(run(req({ joiningServers: 'server.3=127.0.0.1:2803:3803:observer;127.0.0.1:2183' })))).toEqual(['1:participant', '2:participant', '3:observer']);
    expect(roles(run(req({ leavingServers: '3' })))).toEqual(['1:participant', '2:participant']);
    // A new voter set that no synced server is in.
    expect(run(req({ newMembers: 'server.7=127.0.0.1:2807:3807:participant;2187,server.8=127.0.0.1:2808:3808:participant;2188' }))).toBe(Err.NEWCONFIGNOQUORUM);
  });
});

describe('prepReconfig: containment', () => {
  it('any strings a client sends end as a reconfig txn or an error code, never a throw', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('server.', 'server.100=', '=', ',', ';', ':', 'observer', 'participant', '0.0.0.0', '127.0.0.1', '[::1]', '\\', '\n', '99999999999999999999', '-5', 'version=1'),
    );
    const text = fc.option(fc.array(piece, { maxLength: 12 }).map((ps) => ps.join('')), { nil: null });
    fc.assert(
      fc.property(text, text, text, fc.integer({ min: -2, max: 2 ** 40 }), (joiningServers, leavingServers, newMembers, curConfigId) => {
        const { op, reason } = prepReconfig({ joiningServers, leavingServers, newMembers, curConfigId }, input());
        expect(op.kind === 'reconfig' ? reason === null : op.kind === 'error' && reason !== null).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
