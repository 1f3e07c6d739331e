// Connection admission (src/workers/net/conn_admission.ts): ZooKeeper's two bounds in its order
// (maxCnxns in total, then maxClientCnxns per IP; 0 = off), and the rate limit on the warnings a
// flood of refused connections would otherwise write.
//
// How these fail: a refused connection counted in (its slot never given back), a release that
// frees a slot it never took, the total bound applied per IP, a warning per refused connection.

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig } from '../../src/config/load.js';
import { ConnAdmission, RateLimitedWarning } from '../../src/workers/net/conn_admission.js';

describe('ConnAdmission', () => {
  it('maxCnxns bounds every IP together; a released slot is free again', () => {
    const a = new ConnAdmission(3, 0);
    expect([a.admit('10.0.0.1'), a.admit('10.0.0.2'), a.admit('10.0.0.3')]).toEqual([null, null, null]);
    expect(a.admit('10.0.0.4')).toEqual({ bound: 'maxCnxns', message: 'too many connections 3 - max is 3 (maxCnxns)' });
    expect(a.open).toBe(3);
    a.release('10.0.0.2');
    expect(a.admit('10.0.0.4')).toBeNull();
    expect(a.open).toBe(3);
  });

  it('maxClientCnxns bounds one IP; the total bound is checked first, as in ZooKeeper', () => {
    const a = new ConnAdmission(3, 2);
    expect([a.admit('h'), a.admit('h')]).toEqual([null, null]);
    expect(a.admit('h')).toEqual({ bound: 'maxClientCnxns', message: 'too many connections from h - max is 2' });
    expect(a.admit('k')).toBeNull();
    expect(a.admit('h')?.bound).toBe('maxCnxns');
  });

  it('0 turns both bounds off; releasing an IP that holds nothing changes nothing', () => {
    const a = new ConnAdmission(0, 0);
    for (let i = 0; i < 1000; i++) expect(a.admit('h')).toBeNull();
    a.release('never-seen');
    expect(a.open).toBe(1000);
  });
});

describe('RateLimitedWarning', () => {
  it('writes the first line, then at most one per interval, saying how many it left out', () => {
    let now = 0;
    const out: string[] = [];
    const w = new RateLimitedWarning(1000, (l) => out.push(l), () => now);
    w.warn('full');
    for (let i = 0; i < 500; i++) w.warn('full');
    now = 999;
    w.warn('full');
    now = 1000;
    w.warn('full');
    now = 5000;
    w.warn('full');
    expect(out).toEqual(['full', 'full (501 more like it since the last one)', 'full']);
  });
});

describe('the maxCnxns key', () => {
  it('defaults to 0 (no bound); zoo.cfg takes maxCnxns or ZooKeeper\'s system-property spelling', () => {
    expect(loadConfig({}).config.max_cnxns).toBe(0);
    expect(loadConfig({ text: 'maxCnxns=500\n' }).config.max_cnxns).toBe(500);
    expect(loadConfig({ text: 'zookeeper.maxCnxns=7\n' }).config.max_cnxns).toBe(7);
  });

  it('a negative or non-numeric value is an error that names the key', () => {
    for (const bad of ['maxCnxns=-1\n', 'maxCnxns=lots\n']) {
      let err: unknown = null;
      try {
        loadConfig({ text: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('maxCnxns');
      expect((err as ConfigError).message).toContain('maxCnxns');
    }
  });
});
