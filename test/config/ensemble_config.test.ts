import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../src/config/server_config.js';
import { formatServerLine, parseServerLine } from '../../src/config/server_line.js';
import { thrownBy } from '../support/thrown.js';

const root = mkdtempSync(join(tmpdir(), 'waitfree-ensemble-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A fresh dataDir, with `myid` holding `myid` unless null. */
function dataDir(myid: string | null): string {
  const d = join(root, `d${++dirs}`);
  mkdirSync(d);
  if (myid !== null) writeFileSync(join(d, 'myid'), myid);
  return d;
}

const THREE_LOCAL = ['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889', 'server.3=127.0.0.1:2890:3890'];

function load(lines: readonly string[], myid: string | null = '1', flags: ConfigFlags = {}) {
  const d = dataDir(myid);
  return { dir: d, ...loadConfig({ text: [`dataDir=${d}`, ...lines].join('\n'), flags }) };
}

function errorOf(f: () => unknown): ConfigError {
  return thrownBy(f, ConfigError);
}

describe('an ensemble from zoo.cfg', () => {
  it('a Debian-style 3-server zoo.cfg with dataDir/myid works as is', () => {
    const d = dataDir('2\n');
    const text = [
      '# The number of milliseconds of each tick',
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${d}`,
      'clientPort=2181',
      'server.1=zk1.example.com:2888:3888',
      'server.2=zk2.example.com:2888:3888',
      'server.3=zk3.example.com:2888:3888',
    ].join('\n');
    const { config, warnings } = loadConfig({ text });
    expect(warnings).toEqual([]);
    expect(config.ensemble).toEqual({
      my_sid: 2,
      members: [1, 2, 3].map((sid) => ({
        sid,
        host: `zk${sid}.example.com`,
        quorum_port: 2888,
        election_port: 3888,
        role: 'participant',
        client_host: null,
        client_port: null,
      })),
      init_limit_ticks: 10,
      sync_limit_ticks: 5,
      read_only_mode_enabled: false,
    });
    // The myid seeds session ids: replicas must not hand out the same ones.
    expect(config).toMatchObject({ server_id: 2, my_id: 2, client_port: 2181, peer_type: 'participant' });
  });

  it('three members on one host; waitfree.myid and --myid override dataDir/myid', () => {
    expect(load(THREE_LOCAL, '1').config.ensemble?.my_sid).toBe(1);
    expect(load([...THREE_LOCAL, 'waitfree.myid=2'], '1').config.ensemble?.my_sid).toBe(2);
    const { config } = load(THREE_LOCAL, null, { my_id: '3' });
    expect(config.ensemble?.my_sid).toBe(3);
    expect(config.server_id).toBe(3);
  });

  it('initLimit, syncLimit and readonlymode.enabled reach the ensemble; defaults are 10 and 5', () => {
    expect(load(THREE_LOCAL).config.ensemble).toMatchObject({ init_limit_ticks: 10, sync_limit_ticks: 5, read_only_mode_enabled: false });
    const { config } = load([...THREE_LOCAL, 'initLimit=20', 'syncLimit=2', 'readonlymode.enabled=true']);
    expect(config.ensemble).toMatchObject({ init_limit_ticks: 20, sync_limit_ticks: 2, read_only_mode_enabled: true });
  });

  it('observers: the role comes from the line; peerType may repeat it (any case)', () => {
    const lines = [...THREE_LOCAL, 'server.4=127.0.0.1:2891:3891:observer', 'server.5=127.0.0.1:2892:3892:Observer'];
    const me4 = load(lines, '4').config;
    expect(me4.peer_type).toBe('observer');
    expect(me4.ensemble?.members.map((m) => m.role)).toEqual(['participant', 'participant', 'participant', 'observer', 'observer']);
    expect(load([...lines, 'peerType=OBSERVER'], '5').config.peer_type).toBe('observer');
    expect(load([...lines, 'peerType=participant'], '1').config.peer_type).toBe('participant');
    expect(load(['server.1=127.0.0.1:2888:3888:participant', 'server.2=127.0.0.1:2889:3889'], '1').warnings).toEqual([
      'zoo.cfg:2: server.N: 2 participants: no server failure will be tolerated; you need at least 3 servers',
    ]);
  });

  it(';[host:]clientPort gives this member its client address; no host means every address (0.0.0.0), as ZooKeeper', () => {
    const lines = ['server.1=127.0.0.1:2888:3888;2182', 'server.2=127.0.0.1:2889:3889;127.0.0.2:2183', 'server.3=127.0.0.1:2890:3890'];
    expect(load(lines, '1').config).toMatchObject({ client_port: 2182, client_port_address: '0.0.0.0' });
    expect(load(lines, '2').config).toMatchObject({ client_port: 2183, client_port_address: '127.0.0.2' });
    expect(load([...lines, 'clientPort=2182'], '1').config.client_port).toBe(2182);
    expect(load([...lines, 'clientPort=2183', 'clientPortAddress=127.0.0.2'], '2').config.client_port_address).toBe('127.0.0.2');
    expect(load([...lines, 'clientPortAddress=0.0.0.0'], '2').config.client_port_address).toBe('127.0.0.2');
    // No client part on this member's line: clientPort and clientPortAddress apply as usual.
    expect(load([...lines, 'clientPort=2200'], '3').config).toMatchObject({ client_port: 2200, client_port_address: '127.0.0.1' });
    expect(load(['server.1=127.0.0.1:2888:3888;', 'server.2=127.0.0.1:2889:3889'], '1').config.ensemble?.members[0]?.client_port).toBeNull();
  });

  it('IPv6 addresses in brackets', () => {
    const { config } = load(['server.1=[::1]:2888:3888;[::1]:2181', 'server.2=[::1]:2889:3889', 'server.3=[::1]:2890:3890:observer'], '1');
    expect(config.ensemble?.members[0]).toEqual({ sid: 1, host: '::1', quorum_port: 2888, election_port: 3888, role: 'participant', client_host: '::1', client_port: 2181 });
    expect(config.client_port_address).toBe('::1');
  });

  it('one participant with standaloneEnabled (the default) runs standalone; standaloneEnabled=false makes an ensemble of one', () => {
    const alone = load(['server.1=127.0.0.1:2888:3888'], null);
    expect(alone.config.ensemble).toBeNull();
    expect(alone.warnings[0]).toMatch(/^zoo\.cfg:2: server\.1: only one server specified: running standalone/);
    const one = load(['standaloneEnabled=false', 'server.1=127.0.0.1:2888:3888'], '1');
    expect(one.config.ensemble?.members).toHaveLength(1);
  });

  it('no server.N line: standalone and unchanged, even with a myid file in dataDir', () => {
    const { config, warnings, dir } = load(['tickTime=2000'], '3');
    expect(warnings).toEqual([]);
    expect(config).toEqual({ ...DEFAULT_CONFIG, data_dir: dir, data_log_dir: dir });
    expect(config.ensemble).toBeNull();
    expect(config.server_id).toBe(1);
  });

  it('a later source replaces a server.N line of an earlier one (file, then text)', () => {
    const d = dataDir('1');
    const file = join(d, 'zoo.cfg');
    writeFileSync(file, [`dataDir=${d}`, ...THREE_LOCAL].join('\n'));
    const { config } = loadConfig({ file, text: 'server.3=127.0.0.1:2890:3890:observer' });
    expect(config.ensemble?.members[2]?.role).toBe('observer');
  });

  it('myid is read from the first line, blanks trimmed', () => {
    expect(load(THREE_LOCAL, '  3 \r\nignored\n').config.ensemble?.my_sid).toBe(3);
  });
});

describe('ensemble errors name the line or key', () => {
  it('a missing myid names dataDir/myid and the ids to choose from', () => {
    const d = dataDir(null);
    const e = errorOf(() => loadConfig({ text: [`dataDir=${d}`, ...THREE_LOCAL].join('\n') }));
    expect(e.message).toBe(
      `${join(d, 'myid')}: myid file is missing: the server.N lines (zoo.cfg:2) make this server an ensemble member, which needs its id (one of 1, 2, 3) in dataDir/myid, or set waitfree.myid (--myid)`,
    );
  });

  it('a myid that is not a number, or not among the lines', () => {
    const bad = errorOf(() => load(THREE_LOCAL, 'two\n'));
    expect(bad.message).toMatch(/\/myid: "two" is not a server id \(expected an integer in 0\.\.255 on the first line\)$/);
    const d = dataDir('7');
    expect(errorOf(() => loadConfig({ text: [`dataDir=${d}`, ...THREE_LOCAL].join('\n') })).message).toBe(
      `myid 7 (from ${join(d, 'myid')}) is not among the server.N lines (ids 1, 2, 3; zoo.cfg:2)`,
    );
    expect(errorOf(() => load(THREE_LOCAL, null, { my_id: '9' })).message).toBe('myid 9 (from waitfree.myid) is not among the server.N lines (ids 1, 2, 3; zoo.cfg:2)');
    expect(errorOf(() => load(THREE_LOCAL, null, { my_id: '256' })).message).toMatch(/^waitfree\.myid \(--myid\): "256" is out of range/);
  });

  it('server.0 is an id like any other (ZooKeeper accepts it; its C client tests use 0, 1, 2)', () => {
    const lines = ['server.0=127.0.0.1:2000:3000;4000', 'server.1=127.0.0.1:2001:3001;4001', 'server.2=127.0.0.1:2002:3002;4002'];
    const { config } = load(lines, '0');
    expect(config.ensemble?.my_sid).toBe(0);
    expect(config.server_id).toBe(0);
    expect(config.client_port).toBe(4000);
    expect(config.ensemble?.members.map((m) => m.sid)).toEqual([0, 1, 2]);
  });

  it('myid 255 cannot be a session id prefix; waitfree.serverId must equal myid', () => {
    const lines = [...THREE_LOCAL, 'server.255=127.0.0.1:2893:3893'];
    expect(errorOf(() => load(lines, '255')).message).toMatch(/^myid 255 \(from .*\/myid\): waitfree needs 0\.\.254/);
    const e = errorOf(() => load([...THREE_LOCAL, 'waitfree.serverId=5'], '2'));
    expect(e.message).toMatch(/^waitfree\.serverId=5 disagrees with myid 2 \(from .*\): in an ensemble the server id is the myid/);
    expect(load([...THREE_LOCAL, 'waitfree.serverId=2'], '2').config.server_id).toBe(2);
  });

  it('duplicate ids (server.1 and server.01)', () => {
    const e = errorOf(() => load([...THREE_LOCAL, 'server.01=127.0.0.1:2900:3900']));
    expect(e.message).toBe('zoo.cfg:5: server.01: server id 1 is also given by server.1 (zoo.cfg:2): ids must be unique');
    expect(e.key).toBe('server.01');
  });

  it('one host:port used twice among quorum, election and client ports', () => {
    const quorum = errorOf(() => load(['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2888:3889', 'server.3=127.0.0.1:2890:3890']));
    expect(quorum.message).toBe(
      'zoo.cfg:3: server.2: 127.0.0.1:2888 is both the quorum port of server.1 (zoo.cfg:2) and the quorum port of server.2 (zoo.cfg:3): each port is bound once per host',
    );
    const client = errorOf(() => load(['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889;3888', 'server.3=127.0.0.1:2890:3890']));
    expect(client.message).toMatch(/^zoo\.cfg:3: server\.2: 127\.0\.0\.1:3888 is both the election port of server\.1 \(zoo\.cfg:2\) and the client port of server\.2/);
    const mine = errorOf(() => load(['clientPort=2889', ...THREE_LOCAL], '1'));
    expect(mine.message).toBe(
      'zoo.cfg:4: server.2: 127.0.0.1:2889 is both the clientPort of this server, server.1 (zoo.cfg:3) and the quorum port of server.2 (zoo.cfg:4): each port is bound once per host',
    );
    expect(errorOf(() => load(['server.1=127.0.0.1:2888:2888', 'server.2=127.0.0.1:2889:3889'])).message).toBe(
      'zoo.cfg:2: server.1: quorum port and election port are both 2888: they must differ',
    );
    // The same ports on different hosts are fine (the Debian-style test above).
  });

  it('no participant; observers without a quorum', () => {
    const none = errorOf(() => load(['server.1=127.0.0.1:2888:3888:observer', 'server.2=127.0.0.1:2889:3889:observer']));
    expect(none.message).toBe('zoo.cfg:2: server.1: every server.N line is an observer: an ensemble needs at least one participant (voter)');
    const lonely = errorOf(() => load(['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889:observer']));
    expect(lonely.message).toMatch(/^zoo\.cfg:3: server\.2: observers without a quorum: one participant with standaloneEnabled=true runs standalone/);
    expect(load(['standaloneEnabled=false', 'server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889:observer'], '2').config.peer_type).toBe('observer');
  });

  it('peerType disagreeing with this server\'s line', () => {
    const e = errorOf(() => load([...THREE_LOCAL, 'peerType=observer'], '2'));
    expect(e.message).toBe("peerType=observer disagrees with this server's line zoo.cfg:3: server.2 (participant): make them agree");
    expect(e.key).toBe('peerType');
    expect(errorOf(() => load(['peerType=voter'])).message).toBe('zoo.cfg:2: peerType: "voter" is not one of participant, observer');
  });

  it('clientPort or clientPortAddress disagreeing with this server\'s ;[host:]port', () => {
    const lines = ['server.1=127.0.0.1:2888:3888;127.0.0.1:2182', 'server.2=127.0.0.1:2889:3889;2183', 'server.3=127.0.0.1:2890:3890'];
    const port = errorOf(() => load(['clientPort=2181', ...lines], '1'));
    expect(port.message).toBe("clientPort=2181 disagrees with the client port 2182 of this server's line zoo.cfg:3: server.1: give one of them, or the same port");
    expect(port.key).toBe('clientPort');
    const flag = errorOf(() => load(lines, '1', { client_port: '2190' }));
    expect(flag.message).toMatch(/^clientPort=2190 disagrees with the client port 2182/);
    const addr = errorOf(() => load(['clientPortAddress=10.0.0.1', ...lines], '1'));
    expect(addr.message).toBe(
      "clientPortAddress=10.0.0.1 disagrees with the client address 127.0.0.1 of this server's line zoo.cfg:3: server.1: give one of them, or the same address",
    );
    // The case Apache ZooKeeper 3.8 refuses ("... is different from client address found in dynamic file: /0.0.0.0:2183").
    const any = errorOf(() => load(['clientPort=2183', 'clientPortAddress=127.0.0.1', ...lines], '2'));
    expect(any.message).toBe(
      "clientPortAddress=127.0.0.1 disagrees with the client address 0.0.0.0 of this server's line zoo.cfg:5: server.2 (a client port without a host means every address, 0.0.0.0, as in ZooKeeper: write ;127.0.0.1:2183): give one of them, or the same address",
    );
  });

  const malformed: [string, string][] = [
    ['server.1=127.0.0.1:2888', 'zoo.cfg:2: server.1: "127.0.0.1:2888" is malformed (expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort])'],
    ['server.1=127.0.0.1:2888:3888:observer:x', 'zoo.cfg:2: server.1: "127.0.0.1:2888:3888:observer:x" is malformed'],
    ['server.x=127.0.0.1:2888:3888', 'zoo.cfg:2: server.x: "x" is not a server id (expected an integer in 0..255, as in myid)'],
    ['server.-1=127.0.0.1:2888:3888', 'zoo.cfg:2: server.-1: "-1" is not a server id'],
    ['server.256=127.0.0.1:2888:3888', 'zoo.cfg:2: server.256: "256" is not a server id'],
    ['server.1=127.0.0.1:70000:3888', 'zoo.cfg:2: server.1: quorum port "70000" is not a port (expected 1..65535)'],
    ['server.1=127.0.0.1:2888:abc', 'zoo.cfg:2: server.1: election port "abc" is not a port'],
    ['server.1=127.0.0.1:2888:3888:voter', 'zoo.cfg:2: server.1: unrecognised peer type "voter" (expected participant or observer)'],
    ['server.1=zk1:2888:3888|zk1b:2888:3888', 'zoo.cfg:2: server.1: several addresses joined by | (ZooKeeper\'s multiAddress.enabled) are not supported'],
    ['server.1=[::1:2888:3888', 'zoo.cfg:2: server.1: "[::1:2888:3888" is malformed'],
    ['server.1=::1:2888:3888', 'zoo.cfg:2: server.1: "::1:2888:3888" is malformed'],
    ['server.1=bad_host!:2888:3888', 'zoo.cfg:2: server.1: host "bad_host!" is not an IP address or host name (IPv6 goes in brackets: [::1])'],
    ['server.1=127.0.0.1:2888:3888;a:b:c', 'zoo.cfg:2: server.1: client address "a:b:c" is malformed'],
    ['server.1=127.0.0.1:2888:3888;1;2', 'zoo.cfg:2: server.1: more than one \';\''],
    ['server.1=127.0.0.1:2888:3888;0', 'zoo.cfg:2: server.1: client port "0" is not a port'],
    ['electionAlg=1', 'zoo.cfg:2: electionAlg: "1" is out of range: expected an integer in 3..3'],
    ['initLimit=0', 'zoo.cfg:2: initLimit: "0" is out of range'],
  ];
  for (const [line, message] of malformed) {
    it(line, () => {
      const e = errorOf(() => load([line, 'server.9=127.0.0.1:2999:3999', 'server.8=127.0.0.1:2998:3998']));
      expect(e.message.startsWith(message), e.message).toBe(true);
    });
  }
});

describe('server lines', () => {
  it('format as they parse', () => {
    const lines = ['127.0.0.1:2888:3888', '[::1]:2888:3888:observer;2181', 'zk1:2888:3888;[fe80::1]:2181', 'zk2:1:2;0.0.0.0:2182'];
    for (const value of lines) {
      const m = parseServerLine({ key: 'server.3', value, where: 't:1' });
      expect(parseServerLine({ key: 'server.3', value: formatServerLine(m), where: 't:1' })).toEqual(m);
    }
  });
});

describe('the log sync method follows the mode unless set', () => {
  it('an ensemble member syncs with O_DSYNC, a standalone replica with fdatasync', () => {
    expect(load(THREE_LOCAL).config.log_sync_method).toBe('dsync');
    expect(load([]).config.log_sync_method).toBe('fdatasync');
  });

  it('waitfree.log.syncMethod set in zoo.cfg wins in both modes', () => {
    expect(load([...THREE_LOCAL, 'waitfree.log.syncMethod=fdatasync']).config.log_sync_method).toBe('fdatasync');
    expect(load(['waitfree.log.syncMethod=dsync']).config.log_sync_method).toBe('dsync');
  });
});
