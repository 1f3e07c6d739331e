import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig } from '../../src/config/load.js';
import { CONFIG_KEYS, DEFAULT_CONFIG, defaultReadWorkers, resolveDerived, unresolvedDefaults } from '../../src/config/server_config.js';
import { formatValue } from '../../src/config/values.js';
import { thrownBy } from '../support/thrown.js';

function fromText(text: string) {
  return loadConfig({ text });
}

function errorOf(f: () => unknown): ConfigError {
  return thrownBy(f, ConfigError);
}

const dir = mkdtempSync(join(tmpdir(), 'waitfree-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaults', () => {
  it('match the documented values and derive the session timeout bounds from tickTime', () => {
    const { config, warnings } = loadConfig({});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      tick_time_ms: 2000,
      data_dir: './data',
      client_port: 2181,
      client_port_address: '127.0.0.1',
      max_client_cnxns: 60,
      min_session_timeout_ms: 4000,
      max_session_timeout_ms: 40000,
      jute_max_buffer_bytes: 0xfffff,
      four_letter_whitelist: ['srvr'],
      super_digest: null,
      global_outstanding_limit: 1000,
      extended_types_enabled: false,
      container_check_interval_ms: 60000,
      container_max_per_minute: 10000,
      max_outstanding_per_session: 1000,
      server_id: 1,
      fsync: 'always',
      commit_batch_txns_max: 1000,
      commit_batch_bytes_max: 1024 * 1024,
      commit_batch_wait_us: 0,
      snap_count: 100_000,
      log_segment_bytes: 64 * 1024 * 1024,
      snap_retain_count: 3,
    });
  });

  it('read workers default to min(4, max(1, cores - 1))', () => {
    expect([1, 2, 3, 5, 16].map((n) => defaultReadWorkers(n))).toEqual([1, 1, 2, 4, 4]);
  });

  it('every key can be written back in zoo.cfg and read to the same value', () => {
    const text = CONFIG_KEYS.map((k) => `${k.name}=${formatValue(k.default)}`).join('\n');
    expect(fromText(text).config).toEqual(resolveDerived(unresolvedDefaults()));
  });
});

describe('value types', () => {
  it('int: decimal, 0x hex and KiB/MiB suffixes for byte sizes', () => {
    const { config } = fromText('clientPort=2182\njute.maxbuffer=0x1ffff\nwaitfree.ring.commitStreamBytes=16MiB\n');
    expect(config.client_port).toBe(2182);
    expect(config.jute_max_buffer_bytes).toBe(0x1ffff);
    expect(config.ring_commit_stream_bytes).toBe(16 * 1024 * 1024);
  });

  it('int: the -1 sentinel derives the session bounds from tickTime', () => {
    const { config } = fromText('tickTime=3000\nminSessionTimeout=-1\n');
    expect(config.min_session_timeout_ms).toBe(6000);
    expect(config.max_session_timeout_ms).toBe(60000);
    expect(fromText('tickTime=3000\nmaxSessionTimeout=90000').config.max_session_timeout_ms).toBe(90000);
  });

  it('bool: true/false in any case', () => {
    expect(fromText('zookeeper.extendedTypesEnabled=TRUE').config.extended_types_enabled).toBe(true);
    expect(fromText('zookeeper.extendedTypesEnabled=false').config.extended_types_enabled).toBe(false);
  });

  it('host and path strings', () => {
    const { config } = fromText('clientPortAddress=0.0.0.0\ndataDir=/var/lib/waitfree');
    expect(config.client_port_address).toBe('0.0.0.0');
    expect(config.data_dir).toBe('/var/lib/waitfree');
    expect(fromText('clientPortAddress=::1').config.client_port_address).toBe('::1');
    expect(fromText('clientPortAddress=zk-1.example.com').config.client_port_address).toBe('zk-1.example.com');
  });

  it('list: comma-separated, trimmed, empty entries dropped', () => {
    expect(fromText('4lw.commands.whitelist= ruok , mntr,,stat ,').config.four_letter_whitelist).toEqual(['ruok', 'mntr', 'stat']);
    expect(fromText('4lw.commands.whitelist=*').config.four_letter_whitelist).toEqual(['*']);
  });

  it('an unknown four-letter word in the whitelist is a warning, not an error', () => {
    const { config, warnings } = fromText('4lw.commands.whitelist=ruok,kill');
    expect(config.four_letter_whitelist).toEqual(['ruok', 'kill']);
    expect(warnings).toEqual(['4lw.commands.whitelist: unknown four-letter word "kill" (ignored)']);
  });
});

describe('invalid values name the key, the value and the expectation', () => {
  const cases: [string, RegExp][] = [
    ['tickTime=abc', /^zoo\.cfg:1: tickTime: "abc" is not an integer$/],
    ['tickTime=1.5', /tickTime: "1.5" is not an integer/],
    ['clientPort=70000', /clientPort: "70000" is out of range: expected an integer in 0\.\.65535/],
    ['minSessionTimeout=0', /minSessionTimeout: "0" is out of range: expected an integer in 1\.\.2147483647 \(or -1: 2 x tickTime\)/],
    ['waitfree.readWorkers=65', /waitfree\.readWorkers: "65" is out of range: expected an integer in 1\.\.64/],
    ['waitfree.serverId=255', /waitfree\.serverId: "255" is out of range/],
    ['waitfree.ring.netToShardBytes=5000000', /waitfree\.ring\.netToShardBytes: "5000000" is not a power of two/],
    ['zookeeper.extendedTypesEnabled=yes', /zookeeper\.extendedTypesEnabled: "yes" is not a boolean \(expected true or false\)/],
    ['clientPortAddress=not a host', /clientPortAddress: "not a host" is not an IP address or host name/],
    ['dataDir=', /dataDir: "" is empty/],
    ['superDigest=nocolon', /superDigest: "nocolon" is not a digest/],
  ];
  for (const [text, message] of cases) {
    it(text, () => {
      const e = errorOf(() => fromText(`# first line\n${text}`));
      expect(e.message.replace('zoo.cfg:2', 'zoo.cfg:1')).toMatch(message);
      expect(e.message).toContain('zoo.cfg:2:');
    });
  }
});

describe('keys', () => {
  it('an unknown key is an error naming it, with the closest known key', () => {
    const e = errorOf(() => fromText('tickTime=2000\ntickTme=3000'));
    expect(e.message).toBe('zoo.cfg:2: unknown configuration key tickTme (did you mean tickTime?)');
    expect(e.key).toBe('tickTme');
    expect(errorOf(() => fromText('clientport=1')).message).toContain('did you mean clientPort?');
    expect(errorOf(() => fromText('waitfree.readWorker=2')).message).toContain('did you mean waitfree.readWorkers?');
    expect(errorOf(() => fromText('initLimt=5')).message).toContain('did you mean initLimit?');
  });

  it('an unknown key far from every known key gets no guess', () => {
    const e = errorOf(() => fromText('banana=1'));
    expect(e.message).toBe('zoo.cfg:1: unknown configuration key banana (waitfree server --help lists every key)');
  });

  it('one server.N line runs standalone with a warning (ZooKeeper with standaloneEnabled=true); hierarchical quorums are refused', () => {
    const { config, warnings } = fromText('tickTime=2000\nserver.1=127.0.0.1:2888:3888');
    expect(config.ensemble).toBeNull();
    expect(warnings).toEqual([
      'zoo.cfg:2: server.1: only one server specified: running standalone, as ZooKeeper does with standaloneEnabled=true (set standaloneEnabled=false for a one-server ensemble)',
    ]);
    expect(errorOf(() => fromText('group.1=1:2:3')).message).toBe(
      'zoo.cfg:1: group.1: hierarchical quorums are not supported; use majority quorums (server.N lines only)',
    );
    expect(errorOf(() => fromText('weight.1=2')).message).toMatch(/^zoo\.cfg:1: weight\.1: hierarchical quorums/);
  });

  it("reads the membership from ZooKeeper's dynamicConfigFile (as ZooKeeper 3.5+ writes it after a reconfig)", () => {
    const dynamic = join(dir, 'zoo.cfg.dynamic.100000000');
    writeFileSync(
      dynamic,
      'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nserver.3=127.0.0.1:2890:3890:observer;0.0.0.0:2183\n',
    );
    const { config, warnings } = fromText(`tickTime=2000\nwaitfree.myid=2\ndynamicConfigFile=${dynamic}`);
    expect(config.ensemble?.members.map((m) => `${m.sid}:${m.role}:${m.client_port}`)).toEqual(['1:participant:2181', '2:participant:2182', '3:observer:2183']);
    expect(config.ensemble?.my_sid).toBe(2);
    // What is said about the membership names the file it came from.
    expect(warnings).toEqual([`${dynamic}:1: server.N: 2 participants: no server failure will be tolerated; you need at least 3 servers`]);
    // Server lines in zoo.cfg too: the dynamic file's win, and the others are named.
    const both = fromText(`waitfree.myid=1\nserver.1=127.0.0.1:2888:3888\nserver.9=127.0.0.1:2988:3988\ndynamicConfigFile=${dynamic}`);
    expect(both.config.ensemble?.members.map((m) => m.sid)).toEqual([1, 2, 3]);
    expect(both.warnings[0]).toBe('zoo.cfg:2: the server.N lines of this file are ignored: dynamicConfigFile gives the membership');
    // A file that cannot be read, holds no server line, or holds another key is refused by name.
    expect(errorOf(() => fromText(`dynamicConfigFile=${join(dir, 'missing')}`)).message).toMatch(/^cannot read config file .*missing: ENOENT$/);
    const weighted = join(dir, 'weighted.dynamic');
    writeFileSync(weighted, 'server.1=127.0.0.1:2888:3888\nweight.1=2\n');
    expect(errorOf(() => fromText(`dynamicConfigFile=${weighted}`)).message).toMatch(/weighted\.dynamic:2: weight\.1: hierarchical quorums/);
    const empty = join(dir, 'empty.dynamic');
    writeFileSync(empty, 'version=100000000\n');
    expect(errorOf(() => fromText(`dynamicConfigFile=${empty}`)).message).toBe(`${empty}: dynamicConfigFile holds no server.N line`);
  });

  it('ZooKeeper keys that do not apply are accepted and reported as warnings; ensemble keys are read', () => {
    const text = [
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      'admin.commandURL=/commands',
      'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
      'metricsProvider.httpPort=7000',
      'standaloneEnabled=true',
      'leaderServes=yes',
      'preAllocSize=65536',
      'authProvider.1=com.example.zookeeper.TokenAuthenticationProvider',
      'authProvider.2=org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
      'zookeeper.authProvider.3 = org.apache.zookeeper.server.auth.DigestAuthenticationProvider',
    ].join('\n');
    const { config, warnings } = fromText(text);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(warnings).toHaveLength(6);
    // ZooKeeper starts even when a provider fails to load; the ones waitfree serves (kazoo's test
    // clusters name the SASL provider) are not worth a warning.
    expect(warnings[5]).toBe('zoo.cfg:10: authProvider.1 is accepted, not used yet (waitfree loads no provider classes: it serves the world, auth, digest, ip, sasl, x509 and super schemes itself)');
    expect(warnings[0]).toBe('zoo.cfg:4: admin.commandURL is accepted, not used yet (waitfree\'s admin server does not use this key)');
    expect(warnings[3]).toBe("zoo.cfg:8: leaderServes is accepted, not used yet (waitfree's replication does not use this key)");
    for (const w of warnings) expect(w).toMatch(/^zoo\.cfg:\d+: \S+ is accepted, not used yet \(/);
  });

  it("a tuned ZooKeeper 3.8 zoo.cfg starts: the administrator's guide's keys waitfree does not use are warnings, in either spelling", () => {
    const keys = [
      'commitLogCount=500',
      'snapSizeLimitInKb=4194304',
      'txnLogSizeLimitInKb=-1',
      'snapshot.trust.empty=true',
      'zookeeper.snapshot.compression.method=gz',
      'digest.enabled=true',
      'maxResponseCacheSize=400',
      'maxGetChildrenResponseCacheSize=400',
      'tcpKeepAlive=true',
      'clientTcpKeepAlive=true',
      'cnxTimeout=5000',
      'quorumCnxnTimeoutMs=7000',
      'electionPortBindRetry=3',
      'fastleader.minNotificationInterval=200',
      'connectToLearnerMasterLimit=10',
      'connectionMaxTokens=1000',
      'requestThrottleLimit=0',
      'zookeeper.request_throttle_max_requests=0',
      'zookeeper.nio.numWorkerThreads=8',
      'zookeeper.commitProcessor.numWorkerThreads=4',
      'flushDelay=0',
      'maxBatchSize=1000',
      'largeRequestMaxBytes=104857600',
      'audit.enable=false',
      'multiAddress.enabled=false',
      'quorum.auth.enableSasl=false',
      'quorum.auth.serverRequireSasl=false',
      'skipACL=no',
      'DigestAuthenticationProvider.enabled=true',
      'ssl.quorum.context.supplier.class=com.example.Supplier',
      'ssl.hostnameVerification=true',
      'admin.forceHttps=false',
      'znode.container.maxNeverUsedIntervalMs=0',
      'watchManagerName=org.apache.zookeeper.server.watch.WatchManager',
    ];
    const { config, warnings } = fromText(['tickTime=2000', ...keys].join('\n'));
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(warnings).toHaveLength(keys.length);
    for (const w of warnings) expect(w).toMatch(/^zoo\.cfg:\d+: \S+ is accepted, not used yet \(/);
    expect(warnings[0]).toBe('zoo.cfg:2: commitLogCount is accepted, not used yet (waitfree keeps its log and snapshots in dataDir with its own policy)');
    // A typo is still an error.
    expect(errorOf(() => fromText('tcpKeepAlve=true')).message).toContain('did you mean tcpKeepAlive?');
  });

  it('refuses what asks for a protection waitfree cannot give, or cannot turn off', () => {
    expect(errorOf(() => fromText('skipACL=yes')).message).toMatch(/^zoo\.cfg:1: skipACL: waitfree always checks ACLs/);
    expect(errorOf(() => fromText('zookeeper.skipACL=yes')).key).toBe('zookeeper.skipACL');
    expect(errorOf(() => fromText('ssl.quorum.ocsp=true')).message).toMatch(/^zoo\.cfg:1: ssl\.quorum\.ocsp: waitfree's TLS \(secure client port, quorum links\) does not check certificate revocation/);
    expect(errorOf(() => fromText('quorum.auth.serverRequireSasl=TRUE')).message).toMatch(/do not authenticate their peers/);
    expect(errorOf(() => fromText('quorum.auth.learnerRequireSasl=true')).message).toMatch(/do not authenticate their peers/);
    expect(errorOf(() => fromText('DigestAuthenticationProvider.enabled=false')).message).toMatch(/always serves the digest scheme/);
  });

  it('durability keys: snapCount and autopurge.snapRetainCount are used now, waitfree.* knobs are checked', () => {
    const { config, warnings } = fromText(
      [
        'snapCount=5000',
        'autopurge.snapRetainCount=4',
        'waitfree.fsync=none',
        'waitfree.commit.batchTxnsMax=64',
        'waitfree.commit.batchBytesMax=256KiB',
        'waitfree.commit.batchWaitUs=200',
        'waitfree.log.segmentBytes=16MiB',
      ].join('\n'),
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      snap_count: 5000,
      snap_retain_count: 4,
      fsync: 'none',
      commit_batch_txns_max: 64,
      commit_batch_bytes_max: 256 * 1024,
      commit_batch_wait_us: 200,
      log_segment_bytes: 16 * 1024 * 1024,
    });
    expect(errorOf(() => fromText('waitfree.fsync=sometimes')).message).toMatch(/waitfree\.fsync: "sometimes" is not one of always, none/);
    expect(errorOf(() => fromText('autopurge.snapRetainCount=1')).message).toMatch(/out of range/);
    expect(errorOf(() => fromText('waitfree.commit.batchTxnsMax=0')).message).toMatch(/out of range/);
  });

  it("ZooKeeper's fsync.warningthresholdms (a system property there, which a zoo.cfg line sets too)", () => {
    expect(DEFAULT_CONFIG.fsync_warning_threshold_ms).toBe(1000);
    for (const key of ['fsync.warningthresholdms', 'zookeeper.fsync.warningthresholdms']) {
      const { config, warnings } = fromText(`${key}=250`);
      expect(warnings).toEqual([]);
      expect(config.fsync_warning_threshold_ms).toBe(250);
    }
    expect(errorOf(() => fromText('fsync.warningthresholdms=-5')).message).toMatch(/fsync\.warningthresholdms.*out of range/);
  });

  it("ZooKeeper's durability keys: dataLogDir, forceSync, autopurge.purgeInterval", () => {
    expect(DEFAULT_CONFIG).toMatchObject({ data_log_dir: './data', fsync: 'always', force_sync: 'yes', purge_interval_hours: -1 });
    const { config, warnings } = fromText(['dataDir=/srv/zk', 'dataLogDir=/fast/zk-log', 'forceSync=no', 'autopurge.purgeInterval=0'].join('\n'));
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ data_dir: '/srv/zk', data_log_dir: '/fast/zk-log', fsync: 'none', purge_interval_hours: 0 });
    // Unset (or empty) dataLogDir follows dataDir, wherever dataDir comes from.
    expect(fromText('dataDir=/srv/zk').config.data_log_dir).toBe('/srv/zk');
    expect(fromText('dataDir=/srv/zk\ndataLogDir=').config.data_log_dir).toBe('/srv/zk');
    expect(fromText('forceSync=yes').config.fsync).toBe('always');
    expect(errorOf(() => fromText('forceSync=maybe')).message).toMatch(/forceSync: "maybe" is not one of yes, no/);
    expect(errorOf(() => fromText('autopurge.purgeInterval=-2')).message).toMatch(/autopurge\.purgeInterval/);
  });

  it('admin server keys are used: admin.* (and zookeeper.admin.*), waitfree.native', () => {
    expect(DEFAULT_CONFIG).toMatchObject({ admin_enable_server: true, admin_server_port: 8080, admin_server_address: '127.0.0.1', native: true });
    const { config, warnings } = fromText(
      ['admin.enableServer=false', 'admin.serverPort=9090', 'admin.serverAddress=0.0.0.0', 'waitfree.native=false'].join('\n'),
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ admin_enable_server: false, admin_server_port: 9090, admin_server_address: '0.0.0.0', native: false });
    expect(fromText('zookeeper.admin.serverPort=0\nzookeeper.admin.enableServer=false').config).toMatchObject({ admin_server_port: 0, admin_enable_server: false });
    expect(loadConfig({ flags: { admin_server_port: '7070', native: 'false' } }).config).toMatchObject({ admin_server_port: 7070, native: false });
    expect(errorOf(() => fromText('admin.serverPort=70000')).message).toMatch(/out of range/);
    expect(errorOf(() => fromText('waitfree.native=no')).message).toMatch(/not a boolean/);
  });

  it('superDigest is also read as DigestAuthenticationProvider.superDigest and zookeeper.DigestAuthenticationProvider.superDigest', () => {
    const d = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';
    for (const name of ['superDigest', 'DigestAuthenticationProvider.superDigest', 'zookeeper.DigestAuthenticationProvider.superDigest']) {
      expect(fromText(`${name}=${d}`).config.super_digest).toBe(d);
    }
    // Two spellings of one key: the later line wins, as if it were one key.
    expect(fromText(`superDigest=super:AAAA\nzookeeper.DigestAuthenticationProvider.superDigest=${d}`).config.super_digest).toBe(d);
    expect(fromText(`zookeeper.DigestAuthenticationProvider.superDigest=${d}\nsuperDigest=super:AAAA`).config.super_digest).toBe('super:AAAA');
  });

  it('zookeeper.extendedTypesEnabled is also read as extendedTypesEnabled', () => {
    expect(fromText('extendedTypesEnabled=true').config.extended_types_enabled).toBe(true);
  });
});

describe('cross-field checks', () => {
  it('minSessionTimeout must not exceed maxSessionTimeout (also when derived)', () => {
    const e = errorOf(() => fromText('minSessionTimeout=50000\nmaxSessionTimeout=40000'));
    expect(e.message).toBe('minSessionTimeout (50000) must not exceed maxSessionTimeout (40000)');
    expect(errorOf(() => fromText('minSessionTimeout=50000')).message).toContain('maxSessionTimeout (40000)');
    expect(fromText('minSessionTimeout=50000\ntickTime=3000').config.max_session_timeout_ms).toBe(60000);
  });

  it('every ring must hold a frame of jute.maxbuffer + 64 bytes', () => {
    const e = errorOf(() => fromText('jute.maxbuffer=4000000'));
    expect(e.message).toBe(
      'waitfree.ring.netToShardBytes: 4194304 bytes holds frames of at most 2097148 bytes, but jute.maxbuffer (4000000) + 64 needs 4000064; use at least 8388608 or lower jute.maxbuffer',
    );
    const fixed = [
      'jute.maxbuffer=4000000',
      'waitfree.ring.netToShardBytes=8MiB',
      'waitfree.ring.shardToNetBytes=8MiB',
      'waitfree.ring.shardToCommitBytes=8MiB',
    ].join('\n');
    expect(fromText(fixed).config.jute_max_buffer_bytes).toBe(4000000);
    expect(errorOf(() => fromText('waitfree.ring.shardToNetBytes=2MiB')).key).toBe('waitfree.ring.shardToNetBytes');
  });

  it('says when no ring can hold the frame', () => {
    expect(errorOf(() => fromText('jute.maxbuffer=1000000000')).message).toMatch(/no ring can hold it: lower jute\.maxbuffer to at most 536870844/);
  });
});

describe('sources: defaults <- file <- flags', () => {
  const file = join(dir, 'zoo.cfg');
  writeFileSync(file, 'tickTime=1000\nclientPort=2000\ndataDir=/from/file\nwaitfree.readWorkers=3\n');

  it('reads the file and names it in errors', () => {
    expect(loadConfig({ file }).config).toMatchObject({ tick_time_ms: 1000, client_port: 2000, data_dir: '/from/file', read_workers: 3 });
    const bad = join(dir, 'bad.cfg');
    writeFileSync(bad, '\n\nclientPort=x\n');
    expect(errorOf(() => loadConfig({ file: bad })).message).toBe(`${bad}:3: clientPort: "x" is not an integer`);
  });

  it('keeps the file\'s text for the admin initial_configuration command (flags are not in it)', () => {
    expect(loadConfig({ file, flags: { client_port: '3000' } }).config.initial_configuration).toBe(readFileSync(file, 'utf8'));
    expect(loadConfig({ text: 'tickTime=1000\n' }).config.initial_configuration).toBe('');
  });

  it('a missing file is a ConfigError naming it', () => {
    expect(errorOf(() => loadConfig({ file: join(dir, 'nope.cfg') })).message).toMatch(/^cannot read config file .*nope\.cfg: ENOENT$/);
  });

  it('flags override the file; text flags are parsed like zoo.cfg values', () => {
    const { config } = loadConfig({ file, flags: { client_port: '3000', data_dir: '/from/flag', read_workers: 2 } });
    expect(config).toMatchObject({ tick_time_ms: 1000, client_port: 3000, data_dir: '/from/flag', data_log_dir: '/from/flag', read_workers: 2 });
  });

  it('a bad flag value names the key and the flag', () => {
    expect(errorOf(() => loadConfig({ flags: { client_port: 'abc' } })).message).toBe('clientPort (--port): "abc" is not an integer');
    expect(errorOf(() => loadConfig({ flags: { read_workers: 0 } })).message).toBe(
      'waitfree.readWorkers (--read-workers): 0 is out of range: expected an integer in 1..64',
    );
    expect(errorOf(() => loadConfig({ flags: { tick_time_ms: 1.5 } })).message).toBe('tickTime: 1.5 is not an integer');
  });

  it('the shared tree\'s bounds are checked and a bad one is named', () => {
    const page = errorOf(() => fromText('waitfree.tree.pageBytes=3000\n'));
    expect(page.key).toBe('waitfree.tree.pageBytes');
    expect(page.message).toMatch(/power of two/);
    const seg = errorOf(() => fromText('waitfree.tree.segmentBytes=262144\njute.maxbuffer=1048575\n'));
    expect(seg.key).toBe('waitfree.tree.segmentBytes');
    expect(seg.message).toMatch(/cannot hold a znode value of jute.maxbuffer/);
    const slots = errorOf(() => fromText('waitfree.tree.readerSlots=2\nwaitfree.readWorkers=3\n'));
    expect(slots.key).toBe('waitfree.tree.readerSlots');
    // The net worker's fast reads take one slot per read worker: 2 x 3 + 1 with them, 3 + 1 without.
    const fast_slots = errorOf(() => fromText('waitfree.tree.readerSlots=6\nwaitfree.readWorkers=3\n'));
    expect([fast_slots.key, fast_slots.message]).toEqual(['waitfree.tree.readerSlots', expect.stringMatching(/waitfree.net.fastReads.*7 needed/)]);
    expect(fromText('waitfree.tree.readerSlots=4\nwaitfree.readWorkers=3\nwaitfree.net.fastReads=false\n').config.net_fast_reads).toBe(false);
    const { config } = fromText('waitfree.tree.segmentsMax=8\nwaitfree.tree.segmentBytes=16777216\n');
    expect([config.tree_segments_max, config.tree_segment_bytes]).toEqual([8, 16 * 1024 * 1024]);
  });

  it('cross-field checks run on the merged result', () => {
    expect(errorOf(() => loadConfig({ file, flags: { min_session_timeout_ms: 30000 } })).message).toBe(
      'minSessionTimeout (30000) must not exceed maxSessionTimeout (20000)',
    );
  });
});
