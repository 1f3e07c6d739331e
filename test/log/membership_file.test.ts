// The membership file (the last membership a reconfig applied here made) on real files: null
// before any, reads back the last write, a damaged file is an error naming it, and what it says
// is committed reaches the Zab core's start (zabInitFor, ZabCore).

import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MembershipFile } from '../../src/log/membership_file.js';
import { zabInitFor } from '../../src/quorum/quorum_setup.js';
import { zabConfig } from '../../src/zab/config.js';
import { ZabCore } from '../../src/zab/zab_core.js';
import { makeZxid } from '../../src/zab/zxid.js';
import { removeTempDirs, tempDir } from './zab_fixtures.js';

afterEach(removeTempDirs);

const text = (version: number, observer: string) =>
  new TextEncoder().encode(`server.1=127.0.0.1:2001:3001:participant;0.0.0.0:4001\nserver.2=127.0.0.1:2002:3002:${observer};0.0.0.0:4002\nversion=${version.toString(16)}`);

describe('MembershipFile', () => {
  it('is null before the first write, then reads back the last membership written', () => {
    const dir = tempDir();
    expect(MembershipFile.readSync(dir)).toBeNull();
    MembershipFile.writeSync(dir, text(0x100000005, 'participant'), true);
    MembershipFile.writeSync(dir, text(0x100000009, 'observer'), false); // waitfree.fsync none
    const m = MembershipFile.readSync(dir)!;
    expect(m.version).toBe(0x100000009);
    expect(m.members.map((x) => `${x.sid}:${x.role}`)).toEqual(['1:participant', '2:observer']);
  });

  it('a damaged file stops the start, naming the file', () => {
    const dir = tempDir();
    writeFileSync(MembershipFile.path(dir), 'server.1=nonsense\nversion=5');
    expect(() => MembershipFile.readSync(dir)).toThrow(MembershipFile.path(dir));
    writeFileSync(MembershipFile.path(dir), new Uint8Array([0xff, 0xfe, 0x00]));
    expect(() => MembershipFile.readSync(dir)).toThrow(MembershipFile.path(dir));
  });

  it('a membership newer than the snapshot makes it and the log before it committed at start', () => {
    const entries = [1, 2, 3, 4].map((c) => ({ zxid: 0x100000000 + c, bytes: new Uint8Array([c]) }));
    const committedAtStart = (snapshot_zxid: number, log: typeof entries, membership_version?: number) =>
      new ZabCore(zabConfig(1, [1, 2]), zabInitFor(null, snapshot_zxid, log, membership_version)).window.committed;
    expect(committedAtStart(0, entries)).toEqual(makeZxid(0, 0));
    expect(committedAtStart(0, entries, 0x100000003)).toEqual(makeZxid(1, 3));
    // The log lost its tail past the file's version (applied before it was durable here): what
    // the log holds is committed, no more.
    expect(committedAtStart(0, entries.slice(0, 2), 0x100000003)).toEqual(makeZxid(1, 2));
    // The snapshot's own membership: nothing past the snapshot.
    expect(committedAtStart(0x100000002, entries.slice(2), 0x100000001)).toEqual(makeZxid(1, 2));
  });
});
