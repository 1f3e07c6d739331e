import { describe, expect, it } from 'vitest';
import {
  collectEnvironment,
  confEntries,
  DEFAULT_TRACE_MASK,
  FOUR_LETTER_WORDS,
  formatFourLetter,
  fourLetterFromInt,
  fullVersion,
  isTelnetClose,
  isWhitelisted,
  javaDate,
  javaDouble,
  javaHex,
  lastOpName,
  notWhitelistedReply,
  wordToInt,
  type ConnectionStats,
  type ServerStats,
} from '../../src/admin/four_letter.js';
import { DEFAULT_CONFIG } from '../../src/config/server_config.js';
import { loadConfig } from '../../src/config/load.js';
import { membershipText, staticMembership } from '../../src/config/quorum_config_text.js';

/** A fixed build time: fullVersion prints it after the version (", built on ..."). */
const BUILT = new Date(Date.UTC(2026, 11, 5, 13, 5, 42));

const T0 = Date.UTC(2024, 0, 15, 10, 30, 0); // Mon Jan 15 10:30:00 UTC 2024

const client: ConnectionStats = {
  remote_address: '127.0.0.1',
  remote_port: 53514,
  interest_ops: 1,
  queued: 0,
  packets_received: 12,
  packets_sent: 12,
  session_id: 0x100000a2b3c0000n,
  last_op: 'GETD',
  established_ms: T0,
  timeout_ms: 30000,
  last_cxid: 10,
  last_zxid: 0x15n,
  last_response_ms: T0 + 5000,
  last_latency_ms: 1,
  min_latency_ms: 0,
  avg_latency_ms: 1.6,
  max_latency_ms: 7,
  expire_at_ms: T0 + 32000,
};

/** The four-letter-word connection itself: no session yet. */
const probe: ConnectionStats = {
  ...client,
  remote_address: '::1',
  remote_port: 53600,
  interest_ops: 0,
  packets_received: 1,
  packets_sent: 0,
  session_id: 0n,
  last_op: 'NA',
  last_cxid: -1,
  last_zxid: -1n,
  expire_at_ms: T0 + 34000,
};

const STATS: ServerStats = {
  version: fullVersion('0.1.0', BUILT),
  serving: true,
  read_only: false,
  mode: 'standalone',
  latency_min_ms: 0,
  latency_avg_ms: 0.123456,
  latency_max_ms: 17,
  packets_received: 120,
  packets_sent: 119,
  num_alive_connections: 2,
  outstanding_requests: 0,
  zxid: 0x1an,
  node_count: 8,
  watch_count: 3,
  ephemerals_count: 2,
  approximate_data_size: 456,
  file_descriptors: { open: 40, max: 1048576 },
  uptime_ms: 60000,
  global_sessions: 1,
  data_dir_bytes: 4096,
  log_dir_bytes: 67108880,
  trace_mask: DEFAULT_TRACE_MASK,
  read_workers: 2,
  quota_samples: [],
  rings: [{ name: 'commit_stream', used_bytes: 128, capacity_bytes: 8388608 }],
  extra_metrics: [['commit_batches', 42]],
  client_response: { last: 16, min: 16, max: 1040 },
  zk_counters: [['connection_rejected', 3]],
  connections: [client, probe],
  sessions: [
    { session_id: 0x100000a2b3c0000n, timeout_ms: 30000, expire_at_ms: T0 + 32000 },
    { session_id: 0x100000a2b3c0001n, timeout_ms: 30000, expire_at_ms: T0 + 30000 },
    { session_id: 0x100000a2b3c0002n, timeout_ms: 30000, expire_at_ms: T0 + 32000 },
  ],
  ephemerals: [{ session_id: 0x100000a2b3c0000n, paths: ['/lock/n-0000000001', '/members/a'] }],
  watch_summary: { connections: 2, paths: 2, total: 3 },
  watch_listing: {
    order: 'by_session',
    groups: new Map([
      [0x100000a2b3c0000n, ['/config', '/members']],
      [0x100000a2b3c0001n, ['/config']],
    ]),
    truncated: false,
    bytes_max: 1 << 20,
  },
  conf: confEntries(DEFAULT_CONFIG, { client_port: 2181, data_dir_abs: '/var/lib/waitfree', data_log_dir_abs: '/var/lib/waitfree', data_dir_bytes: 4096, log_dir_bytes: 67108880 }),
  conf_membership: null,
  fsync_time: { count: 0, sum_ms: 0, min_ms: 0, max_ms: 0, over_threshold: 0 },
  environment: [
    ['zookeeper.version', fullVersion('0.1.0', BUILT)],
    ['host.name', 'box'],
  ],
};

const NOT_SERVING: ServerStats = { ...STATS, serving: false };

/** The same three watches listed by path (what wchp is gathered with). */
const BY_PATH: ServerStats = {
  ...STATS,
  watch_listing: {
    order: 'by_path',
    groups: new Map([
      ['/config', [0x100000a2b3c0000n, 0x100000a2b3c0001n]],
      ['/members', [0x100000a2b3c0000n]],
    ]),
    truncated: false,
    bytes_max: 1 << 20,
  },
};

describe('four-letter word table', () => {
  it('knows every word ZooKeeper 3.9 answers (zk-wire-protocol.md 2.14)', () => {
    const words = 'conf cons crst dirs dump envi gtmk ruok stmk srvr srst stat wchc wchp wchs mntr isro hash'.split(' ');
    expect(FOUR_LETTER_WORDS.map((w) => w.word).sort()).toEqual([...words].sort());
  });

  it('reads the first four bytes as a big-endian int32', () => {
    expect(fourLetterFromInt(0x72756f6b)).toBe('ruok');
    for (const w of FOUR_LETTER_WORDS) {
      const n = Buffer.from(w.word, 'ascii').readInt32BE(0);
      expect(wordToInt(w.word)).toBe(n);
      expect(fourLetterFromInt(n)).toBe(w.word);
      expect(fourLetterFromInt(n >>> 0)).toBe(w.word); // unsigned reading too
    }
  });

  it('an ordinary frame length is not a word', () => {
    for (const n of [0, 45, 0xfffff, -1, Buffer.from('kill').readInt32BE(0)]) expect(fourLetterFromInt(n)).toBeNull();
  });

  it('recognises telnet\'s close sequence', () => {
    expect(isTelnetClose(0xfff4fffd)).toBe(true);
    expect(isTelnetClose(Buffer.from([0xff, 0xf4, 0xff, 0xfd]).readInt32BE(0))).toBe(true);
    expect(fourLetterFromInt(0xfff4fffd)).toBeNull();
  });

  it('only stmk carries an argument (8 bytes)', () => {
    expect(FOUR_LETTER_WORDS.filter((w) => w.arg_bytes > 0).map((w) => [w.word, w.arg_bytes])).toEqual([['stmk', 8]]);
  });
});

describe('whitelist', () => {
  it('the default list answers only srvr', () => {
    const allowed = FOUR_LETTER_WORDS.filter((w) => isWhitelisted(w.word, DEFAULT_CONFIG.four_letter_whitelist)).map((w) => w.word);
    expect(allowed).toEqual(['srvr']);
  });

  it('srvr is always allowed, even with an empty list', () => {
    expect(isWhitelisted('srvr', [])).toBe(true);
    expect(isWhitelisted('ruok', [])).toBe(false);
  });

  it('* allows every known word, and only known words', () => {
    for (const w of FOUR_LETTER_WORDS) expect(isWhitelisted(w.word, ['*'])).toBe(true);
    expect(isWhitelisted('kill', ['*'])).toBe(false);
  });

  it('listed words are allowed, others are not', () => {
    expect(isWhitelisted('mntr', ['ruok', 'mntr'])).toBe(true);
    expect(isWhitelisted('stat', ['ruok', 'mntr'])).toBe(false);
  });

  it('uses ZooKeeper\'s refusal text', () => {
    expect(notWhitelistedReply('ruok')).toBe('ruok is not executed because it is not in the whitelist.');
  });
});

describe('Java formatting helpers', () => {
  it('Double.toString', () => {
    expect([0, 1, 0.5, 0.1235, 12.25, 0.0001, 12345678, 1e-5].map(javaDouble)).toEqual([
      '0.0', '1.0', '0.5', '0.1235', '12.25', '1.0E-4', '1.2345678E7', '1.0E-5',
    ]);
  });

  it('Long.toHexString of negatives is two\'s complement', () => {
    expect(javaHex(-1n)).toBe('ffffffffffffffff');
    expect(javaHex(-1)).toBe('ffffffffffffffff');
    expect(javaHex(0x1an)).toBe('1a');
  });

  it('Date.toString in UTC', () => {
    expect(javaDate(0)).toBe('Thu Jan 01 00:00:00 UTC 1970');
    expect(javaDate(T0)).toBe('Mon Jan 15 10:30:00 UTC 2024');
  });

  it('lop names', () => {
    expect([4, 11, 1, 15, 14, -10, 999].map(lastOpName)).toEqual(['GETD', 'PING', 'CREA', 'CREA', 'MULT', 'SESS', 'NA']);
  });
});

describe('golden replies', () => {
  it('ruok', () => {
    expect(formatFourLetter('ruok', STATS)).toBe('imok');
    expect(formatFourLetter('ruok', NOT_SERVING)).toBe('imok');
  });

  it('isro', () => {
    expect(formatFourLetter('isro', STATS)).toBe('rw');
    expect(formatFourLetter('isro', { ...STATS, read_only: true })).toBe('ro');
    expect(formatFourLetter('isro', NOT_SERVING)).toBe('null');
  });

  it('srvr', () => {
    expect(formatFourLetter('srvr', STATS)).toBe(
      [
        'Zookeeper version: 3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC',
        'Latency min/avg/max: 0/0.1235/17',
        'Received: 120',
        'Sent: 119',
        'Connections: 2',
        'Outstanding: 0',
        'Zxid: 0x1a',
        'Mode: standalone',
        'Node count: 8',
        '',
      ].join('\n'),
    );
  });

  it('stat lists the clients (brief form) before the counters', () => {
    expect(formatFourLetter('stat', { ...STATS, latency_avg_ms: 0 })).toBe(
      [
        'Zookeeper version: 3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC',
        'Clients:',
        ' /127.0.0.1:53514[1](queued=0,recved=12,sent=12)',
        ' /[::1]:53600[0](queued=0,recved=1,sent=0)',
        '',
        'Latency min/avg/max: 0/0.0/17',
        'Received: 120',
        'Sent: 119',
        'Connections: 2',
        'Outstanding: 0',
        'Zxid: 0x1a',
        'Mode: standalone',
        'Node count: 8',
        '',
      ].join('\n'),
    );
  });

  it('srvr in read-only mode says so', () => {
    expect(formatFourLetter('srvr', { ...STATS, read_only: true }).split('\n')[1]).toBe('READ-ONLY mode; serving only read-only clients');
  });

  it('mntr', () => {
    expect(formatFourLetter('mntr', STATS)).toBe(
      [
        'zk_version\t3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC',
        'zk_avg_latency\t0.1235',
        'zk_max_latency\t17',
        'zk_min_latency\t0',
        'zk_packets_received\t120',
        'zk_packets_sent\t119',
        'zk_num_alive_connections\t2',
        'zk_outstanding_requests\t0',
        'zk_server_state\tstandalone',
        'zk_znode_count\t8',
        'zk_watch_count\t3',
        'zk_ephemerals_count\t2',
        'zk_approximate_data_size\t456',
        'zk_open_file_descriptor_count\t40',
        'zk_max_file_descriptor_count\t1048576',
        'zk_uptime\t60000',
        'zk_global_sessions\t1',
        'zk_local_sessions\t0',
        'zk_avg_fsynctime\t0.0',
        'zk_min_fsynctime\t0',
        'zk_max_fsynctime\t0',
        'zk_cnt_fsynctime\t0',
        'zk_sum_fsynctime\t0',
        'zk_last_client_response_size\t16',
        'zk_max_client_response_size\t1040',
        'zk_min_client_response_size\t16',
        'zk_connection_rejected\t3',
        'zk_waitfree_read_workers\t2',
        'zk_waitfree_ring_commit_stream_used_bytes\t128',
        'zk_waitfree_ring_commit_stream_capacity_bytes\t8388608',
        'zk_waitfree_commit_batches\t42',
        '',
      ].join('\n'),
    );
  });

  it('mntr omits the descriptor lines where they cannot be counted, as ZooKeeper does off Unix', () => {
    const text = formatFourLetter('mntr', { ...STATS, file_descriptors: null });
    expect(text).not.toContain('file_descriptor_count');
    expect(text).toContain('zk_uptime\t60000\n');
  });

  it('mntr: the log sync times as ZooKeeper 3.8 prints them (14 syncs of 3 ms in all)', () => {
    const text = formatFourLetter('mntr', { ...STATS, fsync_time: { count: 14, sum_ms: 3, min_ms: 0, max_ms: 2, over_threshold: 0 } });
    expect(text).toContain('zk_avg_fsynctime\t0.2143\nzk_min_fsynctime\t0\nzk_max_fsynctime\t2\nzk_cnt_fsynctime\t14\nzk_sum_fsynctime\t3\n');
  });

  it('cons: full connection lines, session fields only once a session exists', () => {
    expect(formatFourLetter('cons', STATS)).toBe(
      ' /127.0.0.1:53514[1](queued=0,recved=12,sent=12,sid=0x100000a2b3c0000,lop=GETD,est=1705314600000,to=30000,' +
        'lcxid=0xa,lzxid=0x15,lresp=1705314605000,llat=1,minlat=0,avglat=1,maxlat=7)\n' +
        ' /[::1]:53600[0](queued=0,recved=1,sent=0)\n' +
        '\n',
    );
  });

  it('cons omits lcxid before the first request', () => {
    const fresh: ConnectionStats = { ...client, last_cxid: -1, last_zxid: -1n, last_op: 'NA' };
    expect(formatFourLetter('cons', { ...STATS, connections: [fresh] })).toContain(',lop=NA,est=1705314600000,to=30000,lzxid=0xffffffffffffffff,');
  });

  it('conf', () => {
    expect(formatFourLetter('conf', STATS)).toBe(
      [
        'clientPort=2181',
        'secureClientPort=-1',
        'dataDir=/var/lib/waitfree',
        'dataDirSize=4096',
        'dataLogDir=/var/lib/waitfree',
        'dataLogSize=67108880',
        'tickTime=2000',
        'maxClientCnxns=60',
        'minSessionTimeout=4000',
        'maxSessionTimeout=40000',
        'clientPortListenBacklog=-1',
        'serverId=1',
        'clientPortAddress=127.0.0.1',
        'maxCnxns=0',
        'jute.maxbuffer=1048575',
        '4lw.commands.whitelist=srvr',
        'globalOutstandingLimit=1000',
        'zookeeper.extendedTypesEnabled=false',
        'znode.container.checkIntervalMs=60000',
        'znode.container.maxPerMinute=10000',
        `waitfree.readWorkers=${DEFAULT_CONFIG.read_workers}`,
        'waitfree.ring.netToShardBytes=4194304',
        'waitfree.ring.shardToNetBytes=4194304',
        'waitfree.ring.shardToCommitBytes=4194304',
        'waitfree.ring.commitStreamBytes=8388608',
        'waitfree.ring.netToCommitBytes=4194304',
        'waitfree.ring.commitToNetBytes=4194304',
        'waitfree.maxOutstandingPerSession=1000',
        'waitfree.watch.sliceEntries=2048',
        'waitfree.watch.listingBytesMax=33554432',
        'waitfree.fsync=always',
        'waitfree.commit.batchTxnsMax=1000',
        'waitfree.commit.batchBytesMax=1048576',
        'waitfree.commit.batchWaitUs=0',
        'waitfree.log.segmentBytes=67108864',
        'waitfree.log.syncMethod=fdatasync',
        'waitfree.log.inlineSyncTxnsMax=64',
        'waitfree.commit.youngGenerationMb=96',
        'waitfree.idleSpinUs=0',
        'snapCount=100000',
        'autopurge.snapRetainCount=3',
        'autopurge.purgeInterval=-1',
        '',
      ].join('\n'),
    );
  });

  it('conf in an ensemble: QuorumZooKeeperServer\'s keys after serverId, the membership last', () => {
    const { config } = loadConfig({
      text: ['dataDir=/nonexistent', 'initLimit=7', 'syncLimit=3', 'server.1=127.0.0.1:2888:3888;2181', 'server.2=127.0.0.1:2889:3889;2182', 'server.3=127.0.0.1:2890:3890:observer;2183'].join('\n'),
      flags: { my_id: 3 },
    });
    const membership = membershipText(staticMembership(config.ensemble!));
    const conf = confEntries(config, { client_port: 2183, data_dir_abs: '/d', data_log_dir_abs: '/d', data_dir_bytes: 0, log_dir_bytes: 0 });
    const text = formatFourLetter('conf', { ...STATS, conf, conf_membership: membership });
    const lines = text.split('\n');
    const at = lines.indexOf('serverId=3');
    expect(lines.slice(at, at + 7)).toEqual(['serverId=3', 'initLimit=7', 'syncLimit=3', 'electionAlg=3', 'electionPort=3890', 'quorumPort=2890', 'peerType=1']);
    // As ZooKeeper 3.8 prints it: the QuorumVerifier's text after "membership: ", no final newline.
    expect(text.endsWith(
      'membership: \n' +
        'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n' +
        'server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n' +
        'server.3=127.0.0.1:2890:3890:observer;0.0.0.0:2183\n' +
        'version=0',
    )).toBe(true);
    expect(formatFourLetter('conf', STATS)).not.toContain('membership');
    expect(formatFourLetter('conf', STATS)).not.toContain('peerType');
  });

  it('conf never shows the super digest', () => {
    const c = { ...DEFAULT_CONFIG, super_digest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' };
    const text = confEntries(c, { client_port: 1, data_dir_abs: '/d', data_log_dir_abs: '/d', data_dir_bytes: 0, log_dir_bytes: 0 }).flat().join('\n');
    expect(text).not.toContain('D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  it('wchs, wchc, wchp', () => {
    expect(formatFourLetter('wchs', STATS)).toBe('2 connections watching 2 paths\nTotal watches:3\n');
    expect(formatFourLetter('wchc', STATS)).toBe('0x100000a2b3c0000\n\t/config\n\t/members\n0x100000a2b3c0001\n\t/config\n\n');
    expect(formatFourLetter('wchp', BY_PATH)).toBe('/config\n\t0x100000a2b3c0000\n\t0x100000a2b3c0001\n/members\n\t0x100000a2b3c0000\n\n');
    const none = { ...STATS, watch_summary: { connections: 0, paths: 0, total: 0 }, watch_listing: null };
    expect(formatFourLetter('wchs', none)).toBe('0 connections watching 0 paths\nTotal watches:0\n');
  });

  it('wchs needs no listing; wchc and wchp need theirs, and say so when it was not gathered', () => {
    expect(FOUR_LETTER_WORDS.find((w) => w.word === 'wchs')?.needs).toEqual([]);
    expect(FOUR_LETTER_WORDS.find((w) => w.word === 'wchc')?.needs).toEqual(['watches_by_session']);
    expect(FOUR_LETTER_WORDS.find((w) => w.word === 'wchp')?.needs).toEqual(['watches_by_path']);
    for (const w of ['srvr', 'stat', 'mntr', 'cons', 'conf', 'envi', 'isro', 'dump']) {
      expect(FOUR_LETTER_WORDS.find((x) => x.word === w)?.needs.some((n) => n.startsWith('watches'))).toBe(false);
    }
    expect(() => formatFourLetter('wchp', STATS)).toThrow(/by_path watch listing was not gathered/);
    expect(() => formatFourLetter('wchc', { ...STATS, watch_listing: null })).toThrow(/by_session watch listing was not gathered/);
  });

  it('a cut listing keeps ZooKeeper\'s text and adds one line after it saying so', () => {
    const cut: ServerStats = { ...STATS, watch_summary: { connections: 2, paths: 9, total: 40 }, watch_listing: { ...STATS.watch_listing!, truncated: true } as ServerStats['watch_listing'] };
    expect(formatFourLetter('wchc', cut)).toBe(
      '0x100000a2b3c0000\n\t/config\n\t/members\n0x100000a2b3c0001\n\t/config\n\n' +
        '(listing cut at waitfree.watch.listingBytesMax=1048576: 3 of 40 watches shown)\n',
    );
  });

  it('dump: sessions by expiry bucket, ephemerals by session, connections by expiry bucket', () => {
    expect(formatFourLetter('dump', STATS)).toBe(
      [
        'SessionTracker dump:',
        'Session Sets (2)/(3):',
        '1 expire at Mon Jan 15 10:30:30 UTC 2024:',
        '\t0x100000a2b3c0001',
        '2 expire at Mon Jan 15 10:30:32 UTC 2024:',
        '\t0x100000a2b3c0000',
        '\t0x100000a2b3c0002',
        'ephemeral nodes dump:',
        'Sessions with Ephemerals (1):',
        '0x100000a2b3c0000:',
        '\t/lock/n-0000000001',
        '\t/members/a',
        'Connections dump:',
        'Connections Sets (2)/(2):',
        '1 expire at Mon Jan 15 10:30:32 UTC 2024:',
        // NIOServerCnxn.toString (ZooKeeper 3.8 prints exactly this; a connection without a
        // session yet shows sessionId 0x0).
        '\tip: /127.0.0.1:53514 sessionId: 0x100000a2b3c0000',
        '1 expire at Mon Jan 15 10:30:34 UTC 2024:',
        '\tip: /[::1]:53600 sessionId: 0x0',
        '',
      ].join('\n'),
    );
  });

  it('envi', () => {
    expect(formatFourLetter('envi', STATS)).toBe('Environment:\nzookeeper.version=3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC\nhost.name=box\n');
  });

  it('dirs, gtmk, stmk, hash, crst, srst', () => {
    expect(formatFourLetter('dirs', STATS)).toBe('datadir_size: 4096\nlogdir_size: 67108880\n');
    expect(formatFourLetter('gtmk', STATS)).toBe('306');
    expect(formatFourLetter('stmk', STATS, 0x1ffn)).toBe('511');
    expect(formatFourLetter('stmk', STATS, 0xffffffffffffffffn)).toBe('-1');
    expect(formatFourLetter('hash', STATS)).toBe('');
    expect(formatFourLetter('crst', STATS)).toBe('Connection stats reset.\n');
    expect(formatFourLetter('srst', STATS)).toBe('Server stats reset.\n');
  });

  it('while not serving, words that need the server say so', () => {
    const text = 'This ZooKeeper instance is not currently serving requests\n';
    for (const w of ['srvr', 'stat', 'mntr', 'cons', 'wchs', 'wchc', 'wchp', 'dump', 'conf', 'crst', 'srst', 'dirs']) {
      expect(formatFourLetter(w, NOT_SERVING)).toBe(text);
    }
    expect(formatFourLetter('hash', NOT_SERVING)).toBe(text.trimEnd());
    expect(formatFourLetter('gtmk', NOT_SERVING)).toBe('306');
    expect(formatFourLetter('envi', NOT_SERVING).startsWith('Environment:\n')).toBe(true);
  });

  it('an unknown word is a programming error', () => {
    expect(() => formatFourLetter('kill', STATS)).toThrow(RangeError);
  });
});

describe('collectEnvironment', () => {
  it('lists ZooKeeper\'s Environment keys in order with this process\'s facts', () => {
    const env = collectEnvironment(fullVersion('0.1.0', BUILT));
    expect(env.map(([k]) => k)).toEqual([
      'zookeeper.version', 'host.name', 'java.version', 'java.vendor', 'java.home', 'java.class.path',
      'java.library.path', 'java.io.tmpdir', 'java.compiler', 'os.name', 'os.arch', 'os.version',
      'user.name', 'user.home', 'user.dir', 'os.memory.free', 'os.memory.max', 'os.memory.total',
    ]);
    const m = new Map(env);
    expect(m.get('zookeeper.version')).toBe('3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC');
    expect(m.get('java.version')).toBe(process.versions.node);
    expect(m.get('user.dir')).toBe(process.cwd());
    expect(m.get('os.memory.max')).toMatch(/^\d+MB$/);
  });
});
