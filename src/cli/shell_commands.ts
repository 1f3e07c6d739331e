// The commands of `waitfree shell`, as a table: name, flags, operand count, usage, and what they
// do with a connected client. Output goes through ctx.out, one line per call.

import { isZooKeeperError, parseAclText, type WatchEvent, type ZooKeeperClient } from '../client/index.js';
import type { CreateModeName } from '../client/create_mode.js';
import { formatAcl, formatData, formatEvent, formatStat } from './shell_format.js';
import { parseFlags, ShellUsageError, type FlagSpec, type ParsedArgs } from './shell_parse.js';

export interface ShellWatch {
  readonly path: string;
  stop(): Promise<void>;
}

export interface ShellContext {
  readonly zk: ZooKeeperClient;
  out(line: string): void;
  readonly history: readonly string[];
  /** Persistent watches opened with `watch`, by path. */
  readonly watches: Map<string, ShellWatch>;
}

export interface ShellCommand {
  readonly name: string;
  readonly usage: string;
  readonly help: string;
  readonly flags: FlagSpec;
  /** [min, max] operands. */
  readonly operands: readonly [number, number];
  run(ctx: ShellContext, args: ParsedArgs): Promise<void>;
}

function intFlag(args: ParsedArgs, flag: string, fallback: number): number {
  const v = args.flags.get(flag);
  if (v === undefined || v === true) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ShellUsageError(`-${flag} needs an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function createMode(args: ParsedArgs): CreateModeName {
  const e = args.flags.has('e');
  const s = args.flags.has('s');
  const c = args.flags.has('c');
  if (c && (e || s)) throw new ShellUsageError('-c cannot be combined with -e or -s');
  if (args.flags.has('t') && e) throw new ShellUsageError('-t (TTL) cannot be combined with -e');
  if (c) return 'container';
  if (e) return s ? 'ephemeralSequential' : 'ephemeral';
  return s ? 'persistentSequential' : 'persistent';
}

/** Breadth-first listing of a subtree (zkCli's ls -R). */
async function listRecursive(zk: ZooKeeperClient, root: string, out: (l: string) => void): Promise<void> {
  const queue = [root];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    out(path);
    let children: string[];
    try {
      children = (await zk.getChildren(path)).sort();
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE') && path !== root) continue;
      throw e;
    }
    for (const c of children) queue.push(path === '/' ? `/${c}` : `${path}/${c}`);
  }
}

async function watchCommand(ctx: ShellContext, args: ParsedArgs): Promise<void> {
  const path = args.operands[0]!;
  const recursive = args.flags.has('R');
  const count = intFlag(args, 'n', 0);
  if (ctx.watches.has(path)) throw new ShellUsageError(`already watching ${path} (unwatch it first)`);
  const stream = await ctx.zk.watch(path, { recursive });
  ctx.out(`watching ${path}${recursive ? ' and below' : ''}`);
  const print = (e: WatchEvent): void => ctx.out(formatEvent(e));
  if (count > 0) {
    let seen = 0;
    for await (const e of stream) {
      print(e);
      if (++seen >= count) break; // leaving the loop removes the watch
    }
    return;
  }
  ctx.watches.set(path, { path, stop: () => stream.close() });
  void (async () => {
    try {
      for await (const e of stream) print(e);
    } catch (e) {
      ctx.out(`watch on ${path} ended: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      ctx.watches.delete(path);
    }
  })();
}

export const SHELL_COMMANDS: readonly ShellCommand[] = [
  {
    name: 'ls',
    usage: 'ls [-s] [-R] path',
    help: 'children of a node (-s: and its stat, -R: the whole subtree)',
    flags: { bool: ['s', 'R'] },
    operands: [1, 1],
    async run(ctx, a) {
      const path = a.operands[0]!;
      if (a.flags.has('R')) return listRecursive(ctx.zk, path, ctx.out);
      const { children, stat } = await ctx.zk.getChildren2(path);
      ctx.out(`[${children.sort().join(', ')}]`);
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'get',
    usage: 'get [-s] path',
    help: 'data of a node (-s: and its stat)',
    flags: { bool: ['s'] },
    operands: [1, 1],
    async run(ctx, a) {
      const { data, stat } = await ctx.zk.getData(a.operands[0]!);
      ctx.out(formatData(data));
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'set',
    usage: 'set [-s] [-v version] path data',
    help: 'sets data (-v: only at that version; -s: print the new stat)',
    flags: { bool: ['s'], value: ['v'] },
    operands: [2, 2],
    async run(ctx, a) {
      const stat = await ctx.zk.setData(a.operands[0]!, a.operands[1]!, intFlag(a, 'v', -1));
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'create',
    usage: 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]',
    help: 'creates a node (-e ephemeral, -s sequential, -c container, -t TTL in ms)',
    flags: { bool: ['s', 'e', 'c'], value: ['t'] },
    operands: [1, 3],
    async run(ctx, a) {
      const [path, data, acl] = a.operands;
      const ttl_ms = a.flags.has('t') ? intFlag(a, 't', 0) : undefined;
      const created = await ctx.zk.create(path!, data ?? null, {
        mode: createMode(a),
        ttl_ms,
        acl: acl === undefined ? undefined : parseAclText(acl),
      });
      ctx.out(`Created ${created}`);
    },
  },
  {
    name: 'delete',
    usage: 'delete [-v version] path',
    help: 'deletes a node without children',
    flags: { value: ['v'] },
    operands: [1, 1],
    async run(ctx, a) {
      await ctx.zk.delete(a.operands[0]!, intFlag(a, 'v', -1));
    },
  },
  {
    name: 'deleteall',
    usage: 'deleteall path',
    help: 'deletes a node and everything below it',
    flags: {},
    operands: [1, 1],
    async run(ctx, a) {
      const path = a.operands[0]!;
      if ((await ctx.zk.exists(path)) === null) await ctx.zk.getData(path); // NONODE, in zkCli's words
      await ctx.zk.deleteAll(path);
    },
  },
  {
    name: 'stat',
    usage: 'stat path',
    help: 'stat of a node',
    flags: {},
    operands: [1, 1],
    async run(ctx, a) {
      const path = a.operands[0]!;
      const stat = await ctx.zk.exists(path);
      if (stat === null) await ctx.zk.getData(path); // NONODE, in zkCli's words
      else formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'getAcl',
    usage: 'getAcl [-s] path',
    help: 'ACL of a node (-s: and its stat)',
    flags: { bool: ['s'] },
    operands: [1, 1],
    async run(ctx, a) {
      const { acl, stat } = await ctx.zk.getACL(a.operands[0]!);
      formatAcl(acl).forEach(ctx.out);
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'setAcl',
    usage: 'setAcl [-s] [-v version] [-R] path acl',
    help: 'sets the ACL, e.g. world:anyone:cdrwa or digest:user:hash:rw (-R: the whole subtree)',
    flags: { bool: ['s', 'R'], value: ['v'] },
    operands: [2, 2],
    async run(ctx, a) {
      const [path, text] = a.operands as [string, string];
      const acl = parseAclText(text);
      const paths: string[] = [];
      if (a.flags.has('R')) await listRecursive(ctx.zk, path, (p) => paths.push(p));
      else paths.push(path);
      for (const p of paths) {
        const stat = await ctx.zk.setACL(p, acl, p === path ? intFlag(a, 'v', -1) : -1);
        if (a.flags.has('s') && p === path) formatStat(stat).forEach(ctx.out);
      }
    },
  },
  {
    name: 'addauth',
    usage: 'addauth scheme auth',
    help: 'adds credentials to the session, e.g. addauth digest user:password',
    flags: {},
    operands: [2, 2],
    async run(ctx, a) {
      await ctx.zk.addAuth(a.operands[0]!, a.operands[1]!);
    },
  },
  {
    name: 'whoami',
    usage: 'whoami',
    help: 'the identities of this session',
    flags: {},
    operands: [0, 0],
    async run(ctx) {
      for (const i of await ctx.zk.whoAmI()) ctx.out(`Auth scheme: ${i.authScheme}\nUser: ${i.user}`);
    },
  },
  {
    name: 'sync',
    usage: 'sync path',
    help: 'waits until the server has every write committed before',
    flags: {},
    operands: [1, 1],
    async run(ctx, a) {
      await ctx.zk.sync(a.operands[0]!);
      ctx.out('Sync is OK');
    },
  },
  {
    name: 'watch',
    usage: 'watch [-R] [-n count] path',
    help: 'prints changes of a node (-R: and of everything below it) until unwatch; -n: wait for that many events, then stop',
    flags: { bool: ['R'], value: ['n'] },
    operands: [1, 1],
    run: watchCommand,
  },
  {
    name: 'unwatch',
    usage: 'unwatch path',
    help: 'stops a watch opened with watch',
    flags: {},
    operands: [1, 1],
    async run(ctx, a) {
      const w = ctx.watches.get(a.operands[0]!);
      if (w === undefined) throw new ShellUsageError(`not watching ${a.operands[0]}`);
      ctx.watches.delete(w.path);
      await w.stop();
    },
  },
  {
    name: 'config',
    usage: 'config [-s]',
    help: "the ensemble's membership, /zookeeper/config (-s: and its stat)",
    flags: { bool: ['s'] },
    operands: [0, 0],
    async run(ctx, a) {
      const { data, stat } = await ctx.zk.getData('/zookeeper/config');
      ctx.out(formatData(data));
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'reconfig',
    usage: 'reconfig [-s] [-v version] [-add servers] [-remove ids] [-members servers]',
    help: 'changes the membership (super user, reconfigEnabled): -add server.N=host:port:port:observer;port,...; -remove N,...; -members the whole list; -v: only from that config version',
    flags: { bool: ['s'], value: ['v', 'add', 'remove', 'members'] },
    operands: [0, 0],
    async run(ctx, a) {
      const text = (flag: string): string | undefined => {
        const v = a.flags.get(flag);
        return v === true ? undefined : v;
      };
      const members = text('members');
      if (members !== undefined && (a.flags.has('add') || a.flags.has('remove'))) throw new ShellUsageError('-members cannot be combined with -add or -remove');
      if (members === undefined && !a.flags.has('add') && !a.flags.has('remove')) throw new ShellUsageError('reconfig needs -add, -remove or -members');
      const v = text('v');
      const from_config = v === undefined ? -1 : /^[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : Number.NaN;
      if (!Number.isSafeInteger(from_config)) throw new ShellUsageError(`-v needs a config version (hex), got ${JSON.stringify(v)}`);
      const { data, stat } = await ctx.zk.reconfig({ joining: text('add'), leaving: text('remove'), members, from_config });
      ctx.out(`Committed new configuration:\n${formatData(data)}`);
      if (a.flags.has('s')) formatStat(stat).forEach(ctx.out);
    },
  },
  {
    name: 'history',
    usage: 'history',
    help: 'the commands run so far',
    flags: {},
    operands: [0, 0],
    async run(ctx) {
      ctx.history.forEach((h, i) => ctx.out(`${i}: ${h}`));
    },
  },
  {
    name: 'help',
    usage: 'help',
    help: 'this list',
    flags: {},
    operands: [0, 0],
    async run(ctx) {
      ctx.out(shellHelp());
    },
  },
];

export function shellHelp(): string {
  const lines = ['Commands (quit or exit leaves):'];
  for (const c of SHELL_COMMANDS) lines.push(`  ${c.usage.padEnd(46)} ${c.help}`);
  return lines.join('\n');
}

export function findCommand(name: string): ShellCommand | undefined {
  return SHELL_COMMANDS.find((c) => c.name === name || c.name.toLowerCase() === name.toLowerCase());
}

/** Parses the words of one command and runs it. Throws ShellUsageError or the client's errors. */
export async function runCommand(ctx: ShellContext, words: readonly string[]): Promise<void> {
  const [name, ...rest] = words;
  const cmd = findCommand(name ?? '');
  if (cmd === undefined) throw new ShellUsageError(`unknown command ${JSON.stringify(name)}; try help`);
  const args = parseFlags(rest, cmd.flags);
  const [min, max] = cmd.operands;
  if (args.operands.length < min || args.operands.length > max) throw new ShellUsageError(`usage: ${cmd.usage}`);
  await cmd.run(ctx, args);
}
