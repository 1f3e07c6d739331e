// /zookeeper/config of an ensemble member, as Apache ZooKeeper writes it (QuorumMaj.toString):
// what `getConfig` and zkCli's `config` show. The server.N lines are parsed by the product's own
// parser, so the text follows from the zoo.cfg a user wrote.

import { describe, expect, it } from 'vitest';
import type { EnsembleConfig } from '../../src/config/ensemble_config.js';
import { membershipText, parseQuorumConfigText, quorumConfigText } from '../../src/config/quorum_config_text.js';
import { parseServerLine } from '../../src/config/server_line.js';

function ensembleOf(lines: Record<string, string>): EnsembleConfig {
  const members = Object.entries(lines).map(([key, value]) => parseServerLine({ key, value, where: 'zoo.cfg:1' }));
  return { my_sid: members[0]!.sid, members, init_limit_ticks: 10, sync_limit_ticks: 5, read_only_mode_enabled: false };
}

describe('quorumConfigText', () => {
  it('one line per member in id order, role spelled out, then version=0 (a static config)', () => {
    const text = quorumConfigText(ensembleOf({ 'server.3': '127.0.0.1:2892:3892', 'server.1': '127.0.0.1:2890:3890', 'server.2': '127.0.0.1:2891:3891:observer' }));
    expect(text).toBe(
      'server.1=127.0.0.1:2890:3890:participant\nserver.2=127.0.0.1:2891:3891:observer\nserver.3=127.0.0.1:2892:3892:participant\nversion=0',
    );
  });

  it('a client part written on the line is shown, a bare port as 0.0.0.0; none when clientPort came separately', () => {
    const text = quorumConfigText(ensembleOf({ 'server.1': 'a.example:2888:3888;2181', 'server.2': 'b.example:2888:3888:participant;10.0.0.2:2182', 'server.3': 'c.example:2888:3888' }));
    expect(text.split('\n')).toEqual([
      'server.1=a.example:2888:3888:participant;0.0.0.0:2181',
      'server.2=b.example:2888:3888:participant;10.0.0.2:2182',
      'server.3=c.example:2888:3888:participant',
      'version=0',
    ]);
  });

  it('an IPv6 literal in brackets', () => {
    expect(quorumConfigText(ensembleOf({ 'server.1': '[::1]:2888:3888', 'server.2': '[::1]:2889:3889' })).split('\n')[0]).toBe('server.1=[::1]:2888:3888:participant');
  });
});

describe('parseQuorumConfigText', () => {
  it('reads back what membershipText writes, version included (a reconfig may name sids above 255)', () => {
    const text = 'server.1=127.0.0.1:2890:3890:participant;0.0.0.0:2181\nserver.2=[::1]:2891:3891:participant\nserver.999=h.example:1:2:observer;10.0.0.9:2199\nversion=10000000e';
    const m = parseQuorumConfigText(text);
    expect(m.version).toBe(0x1_0000_000e);
    expect(m.members.map((x) => x.sid)).toEqual([1, 2, 999]);
    expect(membershipText(m)).toBe(text);
  });

  it('refuses what is not a membership, naming the line', () => {
    expect(() => parseQuorumConfigText('server.1=127.0.0.1:1:2\n')).toThrow(/no version= line/);
    expect(() => parseQuorumConfigText('hello\nversion=0')).toThrow(/\/zookeeper\/config:1: "hello" is not key=value/);
    expect(() => parseQuorumConfigText('server.1=a:1:2\nserver.1=b:1:2\nversion=1')).toThrow(/:2: server.1 given twice/);
    expect(() => parseQuorumConfigText('version=zz')).toThrow(/not a hex number/);
  });
});
