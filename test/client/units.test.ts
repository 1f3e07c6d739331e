// The client's pure pieces: connect strings, chroot, frame cutting, the watch registry's fire
// rules, the FIFO gate, watch streams, multi result mapping, protected names, sequence parsing
// and the shell's word splitting. No server.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chroot } from '../../src/client/chroot.js';
import { parseConnectString, ConnectStringError } from '../../src/client/connect_string.js';
import { resolveCreateMode } from '../../src/client/create_mode.js';
import { MultiError, WatchOverflowError } from '../../src/client/errors.js';
import { FifoGate } from '../../src/client/fifo_gate.js';
import { FrameError, FrameReader } from '../../src/client/frame_reader.js';
import { hasProtectionId, newProtectionId, protectedPath, unprotectedName } from '../../src/client/protected_names.js';
import { fromMultiResults } from '../../src/client/transaction.js';
import { selfAndAncestors, WatchRegistry, type WatchEvent } from '../../src/client/watch_registry.js';
import { WatchStream } from '../../src/client/watch_stream.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { parseFlags, splitCommands, tokenize, ShellUsageError } from '../../src/cli/shell_parse.js';
import { Op } from '../../src/protocol/opcodes.js';
import { validatePath } from '../../src/protocol/paths.js';
import { sequenceAfter, sortedBySequence } from '../../src/recipes/sequence.js';
import { bounded } from '../support/fc_bounds.js';
import { freePort } from '../support/servers.js';

describe('connect strings', () => {
  it('parses hosts, default port, IPv6 and chroot', () => {
    expect(parseConnectString('a:1,b,[::1]:3/app/x')).toEqual({
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2181 },
        { host: '::1', port: 3 },
      ],
      chroot: '/app/x',
    });
    expect(parseConnectString('127.0.0.1:2181/').chroot).toBeNull();
  });

  it('refuses what cannot be right', () => {
    for (const bad of ['', '/app', 'a:0', 'a:99999', 'a:x', 'a:1/bad//chroot', '::1:2', '[::1']) {
      expect(() => parseConnectString(bad), bad).toThrow(ConnectStringError);
    }
  });
});

describe('chroot', () => {
  const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
  const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  it('toServer / fromServer round-trip for every path (property)', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), path, (root, p) => {
        const c = new Chroot(`/${root.join('/')}`);
        const server = c.toServer(p);
        expect(validatePath(server)).toBeNull();
        expect(c.fromServer(server)).toBe(p);
      }),
      bounded(),
    );
  });

  it('maps the chroot itself to / and leaves look-alike prefixes alone', () => {
    const c = new Chroot('/app');
    expect(c.toServer('/')).toBe('/app');
    expect(c.fromServer('/app')).toBe('/');
    expect(c.fromServer('/apple')).toBe('/apple');
    expect(new Chroot(null).toServer('/x')).toBe('/x');
  });
});

describe('frame reader', () => {
  it('cuts frames at any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.flatMap((p) => [Buffer.from([0, 0, 0, p.length]), Buffer.from(p)]));
        const r = new FrameReader(1000);
        const got: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          got.push(...r.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(got.map((b) => [...b])).toEqual(payloads.map((p) => [...p]));
      }),
      bounded(),
    );
  });

  it('refuses a negative or oversized length', () => {
    expect(() => new FrameReader(10).push(Buffer.from([0, 0, 0, 11]))).toThrow(FrameError);
    expect(() => new FrameReader(10).push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(FrameError);
  });
});

describe('watch registry', () => {
  const ev = (calls: string[], name: string) => (e: WatchEvent) => calls.push(`${name}:${e.type}:${e.path}`);

  it("fires what ZooKeeper's client fires, consuming one-shot watches", () => {
    const r = new WatchRegistry();
    const calls: string[] = [];
    r.add('data', '/a', ev(calls, 'data'));
    r.add('exist', '/a', ev(calls, 'exist'));
    r.add('child', '/a', ev(calls, 'child'));
    r.add('persistent', '/a', ev(calls, 'pers'));
    r.add('persistentRecursive', '/', ev(calls, 'rec'));
    for (const l of r.trigger('NodeChildrenChanged', '/a')) l({ type: 'NodeChildrenChanged', path: '/a', zxid: 1 });
    expect(calls.sort()).toEqual(['child:NodeChildrenChanged:/a', 'pers:NodeChildrenChanged:/a']);
    calls.length = 0;
    for (const l of r.trigger('NodeDataChanged', '/a')) l({ type: 'NodeDataChanged', path: '/a', zxid: 2 });
    expect(calls.sort()).toEqual(['data:NodeDataChanged:/a', 'exist:NodeDataChanged:/a', 'pers:NodeDataChanged:/a', 'rec:NodeDataChanged:/a']);
    expect(r.lists()).toEqual({ data: [], exist: [], child: [], persistent: ['/a'], persistentRecursive: ['/'] });
    expect(r.trigger('NodeDeleted', '/a').size).toBe(2);
  });

  it('a listener registered twice fires once; remove takes one listener or all', () => {
    const r = new WatchRegistry();
    let n = 0;
    const l = () => n++;
    r.add('data', '/x', l);
    r.add('child', '/x', l);
    for (const f of r.trigger('NodeDeleted', '/x')) f({ type: 'NodeDeleted', path: '/x', zxid: 0 });
    expect(n).toBe(1);
    r.add('persistent', '/y', l);
    r.add('persistent', '/y', () => undefined);
    expect(r.remove('persistent', '/y', l)).toEqual([l]);
    expect(r.has('persistent', '/y')).toBe(true);
    expect(r.remove('persistent', '/y')).toHaveLength(1);
    expect(r.count()).toBe(0);
    expect(selfAndAncestors('/a/b')).toEqual(['/a/b', '/a', '/']);
  });
});

describe('FIFO gate', () => {
  it('serves waiters in arrival order and lets an aborted waiter go', async () => {
    const g = new FifoGate(1);
    expect(g.tryAcquire()).toBe(true);
    const order: number[] = [];
    const ac = new AbortController();
    const w1 = g.acquire().then(() => order.push(1));
    const w2 = g.acquire(ac.signal).then(
      () => order.push(2),
      () => order.push(-2),
    );
    const w3 = g.acquire().then(() => order.push(3));
    expect(g.tryAcquire()).toBe(false);
    ac.abort();
    await w2;
    g.release();
    await w1;
    g.release();
    await w3;
    expect(order).toEqual([-2, 1, 3]);
    expect(g.in_use).toBe(1);
  });
});

describe('watch stream', () => {
  it('delivers buffered events in order, ends cleanly, and overflows loudly', async () => {
    let removed = 0;
    const s = new WatchStream('/p', async () => void removed++, 2);
    const e = (n: number): WatchEvent => ({ type: 'NodeDataChanged', path: '/p', zxid: n });
    s.push(e(1));
    s.push(e(2));
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(e(1));
    s.push(e(3));
    s.push(e(4));
    await expect(Promise.all([it.next(), it.next(), it.next()])).rejects.toBeInstanceOf(WatchOverflowError);
    expect(removed).toBe(1);
    const t = new WatchStream('/q', async () => void removed++);
    const pending = t.next();
    await t.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});

describe('multi results', () => {
  it('names the failing op, not the ones rolled back after it', () => {
    const results = [
      { type: Op.error, response: { err: 0 } },
      { type: Op.error, response: { err: -103 } },
      { type: Op.error, response: { err: -2 } },
    ] as const;
    const ops = [
      { op: 'create', path: '/a' },
      { op: 'setData', path: '/b', data: 'x' },
      { op: 'delete', path: '/c' },
    ] as const;
    const e = (() => {
      try {
        fromMultiResults([...results], [...ops], new Chroot('/r'));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(MultiError);
    expect(e).toMatchObject({ code: 'BADVERSION', index: 1, path: '/b' });
    expect(fromMultiResults([{ type: Op.create, response: { path: '/r/a' } }], [ops[0]], new Chroot('/r'))).toEqual([{ op: 'create', path: '/a' }]);
  });

  it('create modes: TTL turns persistent modes into TTL modes and refuses others', () => {
    expect(resolveCreateMode('persistentSequential', 5).name).toBe('persistentSequentialWithTtl');
    expect(resolveCreateMode('container', undefined).opcode).toBe(Op.createContainer);
    expect(() => resolveCreateMode('ephemeral', 5)).toThrow();
  });
});

describe('names and sequences', () => {
  it('protected names carry an id that is found again and stripped', () => {
    const id = newProtectionId();
    const p = protectedPath('/locks/lock-', id);
    const name = `${p.slice('/locks/'.length)}0000000007`;
    expect(hasProtectionId(name, id)).toBe(true);
    expect(hasProtectionId(name, newProtectionId())).toBe(false);
    expect(unprotectedName(name)).toBe('lock-0000000007');
    expect(sequenceAfter(name, 'lock-')).toBe(7);
  });

  it('sorts by sequence, negatives (int overflow) first, ignoring foreign children', () => {
    const sorted = sortedBySequence(['x-read-0000000002', 'x-write-0000000001', 'other', 'x-read--000000003'], ['read-', 'write-']);
    expect(sorted.map((n) => n.name)).toEqual(['x-read--000000003', 'x-write-0000000001', 'x-read-0000000002']);
  });
});

describe('shell words', () => {
  it('splits scripts and commands, honouring quotes and escapes', () => {
    expect(splitCommands('ls /; get "/a;b"\n# note\n  \nset /x \'1;2\'')).toEqual(['ls /', 'get "/a;b"', "set /x '1;2'"]);
    expect(tokenize(`create /a "hello world" 'it''s' a\\ b`)).toEqual(['create', '/a', 'hello world', 'its', 'a b']);
    expect(() => tokenize('get "open')).toThrow(ShellUsageError);
  });

  it('parses flag clusters and values; unknown flags are usage errors', () => {
    const p = parseFlags(['-es', '-t', '500', '/p', 'data'], { bool: ['e', 's'], value: ['t'] });
    expect([...p.flags]).toEqual([
      ['e', true],
      ['s', true],
      ['t', '500'],
    ]);
    expect(p.operands).toEqual(['/p', 'data']);
    expect(() => parseFlags(['-z'], { bool: ['e'] })).toThrow(ShellUsageError);
    expect(parseFlags(['-5'], {}).operands).toEqual(['-5']);
  });
});

describe('connect to nothing', () => {
  it('rejects with CONNECTIONLOSS after the connect timeout and ends closed', async () => {
    const port = await freePort(); // nobody listens there
    const err = await ZooKeeperClient.connect(`127.0.0.1:${port}`, { connectTimeout_ms: 300, reconnectDelay_ms: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECTIONLOSS' });
  });
});
