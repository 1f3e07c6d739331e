// /zookeeper/config of an ensemble member, as Apache ZooKeeper writes it (QuorumMaj.toString):
// what `getConfig` and zkCli's `config` show. The server.N lines are parsed by the product's own
// parser, so the text follows from the zoo.cfg a user wrote.

import { describe, expect, it } from 'vitest';
import type { EnsembleConfig } from '../../src/config/ensemble_config.js';
import { quorumConfigText } from '../../src/config/quorum_config_text.js';
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
