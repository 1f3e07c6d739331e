// `waitfree --help`: generated from the key table, the ignored-key table and the four-letter-word
// table, so it cannot drift from what the parser accepts.

import { FOUR_LETTER_WORDS } from '../admin/four_letter.js';
import { ENSEMBLE_MEMBERS_MAX } from '../config/ensemble_layout.js';
import { IGNORED_KEYS, REFUSED_KEYS } from '../config/ignored_keys.js';
import { CONFIG_KEYS, type KeySpec } from '../config/server_config.js';
import { describeInt, formatValue, typeLabel } from '../config/values.js';

const WIDTH = 100;

/** Greedy word wrap; every line starts with `indent`. */
export function wrap(text: string, indent: string, width = WIDTH): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line += (line.length > indent.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines.join('\n');
}

function rangeText(k: KeySpec): string {
  if (k.type.kind === 'int') return describeInt(k.type);
  if (k.type.kind === 'bool') return 'true or false';
  if (k.type.kind === 'list') return 'comma-separated list';
  if (k.type.kind === 'digest') return 'user:base64digest';
  if (k.type.format === 'choice') return `one of ${(k.type.choices ?? []).join(', ')}`;
  if (k.type.format === 'text') return 'text';
  return k.type.format === 'host' ? 'IP address or host name' : 'a non-empty path';
}

function defaultText(k: KeySpec): string {
  const v = formatValue(k.default);
  return v === '' ? '(unset)' : v;
}

function flagLine(option: string, arg: string, text: string): string {
  const head = `  ${option}${arg ? ` ${arg}` : ''}`.padEnd(24);
  return head + wrap(text, ' '.repeat(24)).trimStart();
}

/** The placeholder after a flag in the help text. */
function flagArg(k: KeySpec): string {
  if (k.type.kind === 'int') return 'N';
  if (k.type.kind === 'bool') return 'true|false';
  if (k.type.kind === 'string' && k.type.format === 'host') return 'ADDR';
  return k.type.kind === 'string' && k.type.format === 'choice' ? (k.type.choices ?? []).join('|') : 'DIR';
}

function flagsSection(): string {
  const lines = ['Options of `waitfree server` (flags override the config file, which overrides defaults):'];
  lines.push(flagLine('-c, --config', 'FILE', 'Read a zoo.cfg-style file (Java properties: key=value or key: value, # and ! comments, trailing \\ continues a line).'));
  for (const k of CONFIG_KEYS) {
    if (!k.flag) continue;
    const arg = flagArg(k);
    lines.push(flagLine(k.flag, arg, `Sets ${k.name}: ${k.help} (default ${defaultText(k)})`));
  }
  lines.push(flagLine('-h, --help', '', 'Show this text.'));
  return lines.join('\n');
}

function keysSection(): string {
  const lines = ['Configuration keys (zoo.cfg names; the server prints the values in effect with `echo conf | nc`):'];
  for (const k of CONFIG_KEYS) {
    const aliases = k.aliases.length > 0 ? ` (also ${k.aliases.join(', ')})` : '';
    lines.push(`  ${k.name}=${defaultText(k)}${aliases}`);
    lines.push(wrap(`${typeLabel(k.type)}: ${rangeText(k)}. ${k.help}${k.flag ? ` Flag: ${k.flag}.` : ''}`, '      '));
  }
  lines.push(
    '',
    '  server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]',
    wrap(
      'One line per ensemble member, N = its id (0..255), as in ZooKeeper; IPv6 hosts in brackets. With server.N lines this server is the member whose id is in dataDir/myid (or waitfree.myid, --myid), and its client port may come from its line. One participant with standaloneEnabled=true runs standalone, as ZooKeeper does. No server.N line: standalone.',
      '      ',
    ),
  );
  const ignored = IGNORED_KEYS.map((k) => (k.prefix ? `${k.name}*` : k.name)).join(', ');
  lines.push('', wrap(`Accepted with a warning, not used yet (each also as zookeeper.<key>): ${ignored}.`, '  '));
  const refused = REFUSED_KEYS.map((k) => k.label).join(', ');
  lines.push(wrap(`Refused: ${refused} (hierarchical quorums; protections waitfree cannot give, or cannot turn off). Any other key is an error.`, '  '));
  return lines.join('\n');
}

function ensembleSection(): string {
  const lines = [
    'Options of `waitfree ensemble` (a local ensemble on 127.0.0.1, one server process per member; Ctrl-C stops',
    'them all; a member that dies leaves the others running, and its restart command is printed):',
  ];
  lines.push(flagLine('--replicas', 'N', 'Participants (voters), 1 or more (default 3).'));
  lines.push(flagLine('--observers', 'N', `Observers (default 0); at most ${ENSEMBLE_MEMBERS_MAX} members in all.`));
  lines.push(flagLine('--base-port', 'N', 'Member i (0-based) gets client port N+i, quorum port N+1000+2i, election port N+1001+2i, admin port N+2000+i (default 2181).'));
  lines.push(flagLine('--data-dir', 'DIR', 'Where r1, r2, ... (each: zoo.cfg, data/, data/myid) are written; default a fresh directory under the OS temp dir. An existing one keeps its data.'));
  lines.push(flagLine('-c, --config', 'FILE', 'zoo.cfg lines appended to every member\'s config (not server.N, dataDir, ports, peerType, myid).'));
  lines.push(flagLine('--dry-run', '', 'Write the files and print the plan; start nothing.'));
  return lines.join('\n');
}

function wordsSection(): string {
  const lines = ['Four-letter words (answered on the client port if in 4lw.commands.whitelist; srvr always):'];
  for (const w of FOUR_LETTER_WORDS) lines.push(`  ${w.word}  ${w.help}`);
  return lines.join('\n');
}

function environmentSection(): string {
  return [
    'Environment:',
    '  GLIBC_TUNABLES  glibc.malloc.hugetlb=1 puts the shared tree on transparent huge pages where the',
    '                  host\'s THP mode is madvise (a restart with 1M znodes ~40 % faster). bin/waitfree.js',
    '                  adds it when executed directly (not as `node bin/waitfree.js`), and so does',
    '                  `waitfree ensemble`; glibc.malloc.hugetlb=0 keeps 4 KiB pages. The server says',
    '                  at start which pages its tree is on.',
    '  WAITFREE_NATIVE false: as --native=false.',
  ].join('\n');
}

export function helpText(): string {
  const usage = [
    'waitfree: a ZooKeeper-compatible coordination server',
    '',
    'Usage:',
    '  waitfree server [--config FILE] [--port N] [--host ADDR] [--data-dir DIR] [--read-workers N]',
    '                  [--admin-port N] [--native=false] [--myid N]',
    '  waitfree ensemble [--replicas N] [--observers N] [--base-port N] [--data-dir DIR] [--config FILE] [--dry-run]',
    '  waitfree shell [host:port[,host:port...][/chroot]] [-c COMMANDS]... [-i]',
    '  waitfree check (--connect HOSTS | --launch standalone|ensemble:3|ensemble:5|zookeeper[:3] | --history FILE)',
    '                 [--workload W] [--nemesis none|kill|pause|partition|slow-disk|disk-fault|partition-peers|reconfig|all]',
    '                 [--nemesis-target random|leader|follower] [--time S] [--seed N] [--out DIR]',
    '  waitfree --help | waitfree server --help',
    '  waitfree --version',
    '',
    'Commands:',
    '  server   Run a server (standalone, or an ensemble member with server.N lines) until SIGINT or SIGTERM.',
    '  ensemble Start a local ensemble (one server process per member) and print its connect string.',
    '  shell    A zkCli-like shell on any ZooKeeper-compatible server (waitfree shell --help).',
    '  check    Record operations under faults and check linearizability and ZooKeeper\'s session',
    '           promises; exit 0 valid, 1 invalid, 2 unknown (waitfree check --help).',
    '  help     Show this text.',
  ].join('\n');
  return [usage, flagsSection(), ensembleSection(), keysSection(), wordsSection(), environmentSection()].join('\n\n') + '\n';
}
