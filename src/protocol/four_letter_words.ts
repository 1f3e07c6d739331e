// The four-letter words as data: which words exist, what each needs from the server, and how a
// connection's first four bytes are recognised as one. A protocol table: the config loader (the
// whitelist), the net worker (recognising a word) and the admin formatters
// (src/admin/four_letter.ts) all read it, so it lives below all of them.

/**
 * Parts of ServerStats a word reads beyond the counters, which are O(1) per worker to gather:
 * connection rows cost O(connections); a watch listing O(watches) (built by the shards in
 * slices, bounded by waitfree.watch.listingBytesMax), so only wchc / wchp and their admin
 * commands ask for one; the process's file descriptors O(descriptors) (a listing of
 * /proc/self/fd), so only mntr and its admin command; the quota gauges O(nodes under
 * /zookeeper/quota), so only mntr, its admin command and /metrics. The other parts are gathered whatever the word.
 */
export type StatsPart = 'connections' | 'watches_by_session' | 'watches_by_path' | 'ephemerals' | 'sessions' | 'conf' | 'environment' | 'file_descriptors' | 'quotas';

/** Side effect the server performs before answering (the reply text does not depend on it). */
export type FourLetterAction = 'reset_connection_stats' | 'reset_server_stats' | 'set_trace_mask';

export interface FourLetterWord {
  readonly word: string;
  /** Answers "This ZooKeeper instance is not currently serving requests" while not serving. */
  readonly needs_serving: boolean;
  readonly needs: readonly StatsPart[];
  readonly action?: FourLetterAction;
  /** stmk: 8 more bytes (the int64 mask) follow the word on the wire. */
  readonly arg_bytes: number;
  readonly help: string;
}

export const FOUR_LETTER_WORDS: readonly FourLetterWord[] = [
  { word: 'ruok', needs_serving: false, needs: [], arg_bytes: 0, help: 'imok if the server is running' },
  { word: 'srvr', needs_serving: true, needs: [], arg_bytes: 0, help: 'version, latency, counters, zxid, mode, node count' },
  { word: 'stat', needs_serving: true, needs: ['connections'], arg_bytes: 0, help: 'srvr plus the list of clients' },
  { word: 'mntr', needs_serving: true, needs: ['file_descriptors', 'quotas'], arg_bytes: 0, help: 'key<TAB>value lines for monitoring' },
  { word: 'cons', needs_serving: true, needs: ['connections'], arg_bytes: 0, help: 'every connection with its session and counters' },
  { word: 'wchs', needs_serving: true, needs: [], arg_bytes: 0, help: 'watch summary' },
  { word: 'wchc', needs_serving: true, needs: ['watches_by_session'], arg_bytes: 0, help: 'watched paths by session' },
  { word: 'wchp', needs_serving: true, needs: ['watches_by_path'], arg_bytes: 0, help: 'watching sessions by path' },
  { word: 'dump', needs_serving: true, needs: ['sessions', 'ephemerals', 'connections'], arg_bytes: 0, help: 'sessions, ephemerals and connections' },
  { word: 'conf', needs_serving: true, needs: ['conf'], arg_bytes: 0, help: 'the configuration in effect' },
  { word: 'envi', needs_serving: false, needs: ['environment'], arg_bytes: 0, help: 'host, runtime and process environment' },
  { word: 'isro', needs_serving: true, needs: [], arg_bytes: 0, help: 'ro or rw' },
  { word: 'crst', needs_serving: true, needs: [], action: 'reset_connection_stats', arg_bytes: 0, help: 'reset per-connection statistics' },
  { word: 'srst', needs_serving: true, needs: [], action: 'reset_server_stats', arg_bytes: 0, help: 'reset server statistics' },
  { word: 'dirs', needs_serving: true, needs: [], arg_bytes: 0, help: 'bytes used by the data and log directories' },
  { word: 'gtmk', needs_serving: false, needs: [], arg_bytes: 0, help: 'current trace mask (decimal)' },
  { word: 'stmk', needs_serving: false, needs: [], action: 'set_trace_mask', arg_bytes: 8, help: 'set the trace mask (echoes it)' },
  { word: 'hash', needs_serving: true, needs: [], arg_bytes: 0, help: 'tree digest history (empty: waitfree keeps no digests)' },
];

export const KNOWN_FOUR_LETTER_WORDS: ReadonlySet<string> = new Set(FOUR_LETTER_WORDS.map((w) => w.word));

const BY_WORD = new Map(FOUR_LETTER_WORDS.map((w) => [w.word, w]));
const BY_INT = new Map(FOUR_LETTER_WORDS.map((w) => [wordToInt(w.word), w.word]));

export function fourLetterWord(word: string): FourLetterWord | undefined {
  return BY_WORD.get(word);
}

/** The int32 (big-endian) a word's four ASCII bytes read as, e.g. ruok = 0x72756f6b. */
export function wordToInt(word: string): number {
  if (word.length !== 4) throw new RangeError(`four-letter word expected, got ${JSON.stringify(word)}`);
  return ((word.charCodeAt(0) << 24) | (word.charCodeAt(1) << 16) | (word.charCodeAt(2) << 8) | word.charCodeAt(3)) | 0;
}

/**
 * The word a connection's first four bytes spell (read as the int32 frame length), or null when
 * they are an ordinary length. Accepts the value signed or unsigned.
 */
export function fourLetterFromInt(n: number): string | null {
  return BY_INT.get(n | 0) ?? null;
}

/** telnet's close sequence (IAC IP IAC DO TM); ZooKeeper just closes the connection on it. */
export const TELNET_CLOSE_INT = 0xfff4fffd | 0;

export function isTelnetClose(n: number): boolean {
  return (n | 0) === TELNET_CLOSE_INT;
}

/** ZooKeeper's rule: srvr is always allowed (zkServer.sh status needs it); '*' allows every word. */
export function isWhitelisted(cmd: string, whitelist: readonly string[]): boolean {
  if (cmd === 'srvr') return true;
  if (!KNOWN_FOUR_LETTER_WORDS.has(cmd)) return false;
  return whitelist.includes('*') || whitelist.includes(cmd);
}

/** The reply to a known word that is not whitelisted (NIOServerCnxn's NopCommand text). */
export function notWhitelistedReply(cmd: string): string {
  return `${cmd} is not executed because it is not in the whitelist.`;
}
