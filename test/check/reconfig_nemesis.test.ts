// The reconfig nemesis: `waitfree check --nemesis reconfig` changes the membership of a running
// ensemble (a voter becomes an observer, or a member is removed) and puts it back, beside the
// other faults. Shown by what a user of the tool sees: the steps it asks for, and a run against a
// waitfree ensemble whose history records reconfig windows that all ended with the member back,
// final reads through every member, the run valid, and the servers' own logs saying the
// membership changed.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHistory } from '../../src/check/checker/history.js';
import { parseCheckArgs } from '../../src/check/cli.js';
import { FaultBudget } from '../../src/check/fault_budget.js';
import { stepsFor } from '../../src/check/reconfig_nemesis.js';
import { parseQuorumConfigText } from '../../src/config/quorum_config_text.js';
import { runWaitfree } from '../support/run_waitfree.js';

const CONFIG = parseQuorumConfigText(
  ['server.1=127.0.0.1:3001:4001:participant;127.0.0.1:2181', 'server.2=127.0.0.1:3002:4002:participant', 'server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2183', 'version=100000003'].join('\n'),
);
const without = (sid: number) => ({ ...CONFIG, members: CONFIG.members.filter((m) => m.sid !== sid) });
const withRole = (sid: number, role: 'observer' | 'participant') => ({ ...CONFIG, members: CONFIG.members.map((m) => (m.sid === sid ? { ...m, role } : m)) });

describe('the reconfig nemesis: its steps', () => {
  it("voter -> observer names the member's addresses as launched, client part included; back makes it a voter", () => {
    const { there, back } = stepsFor('observer', 'server.2=127.0.0.1:3002:4002:participant;127.0.0.1:2182');
    expect(there.change).toEqual({ joining: 'server.2=127.0.0.1:3002:4002:observer;127.0.0.1:2182' });
    expect(there.done(CONFIG)).toBe(false);
    expect(there.done(withRole(2, 'observer'))).toBe(true);
    expect(back.change).toEqual({ joining: 'server.2=127.0.0.1:3002:4002:participant;127.0.0.1:2182' });
    expect(back.done(withRole(2, 'observer'))).toBe(false);
    // the config read may show other addresses (a member's own zoo.cfg view): the role decides
    expect(back.done(CONFIG)).toBe(true);
  });

  it('removed, then added back as a voter', () => {
    const { there, back } = stepsFor('removed', 'server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2183');
    expect(there.change).toEqual({ leaving: '3' });
    expect(there.done(CONFIG)).toBe(false);
    expect(there.done(without(3))).toBe(true);
    expect(back.change).toEqual({ joining: 'server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2183' });
    expect(back.done(without(3))).toBe(false);
    expect(back.done(withRole(3, 'observer'))).toBe(false);
    expect(back.done(CONFIG)).toBe(true);
  });

  it('refuses a server line without a client part (a reconfig must name one)', () => {
    expect(() => stepsFor('observer', 'server.2=127.0.0.1:3002:4002')).toThrow(/is not server.N=/);
  });

  it('shares --faults-max with the other nemeses: one budget, taken by whichever loop strikes', () => {
    const budget = new FaultBudget(3);
    const takes = [budget.take(), budget.take(), budget.take(), budget.take()];
    expect(takes).toEqual([true, true, true, false]);
    expect(budget.exhausted).toBe(true);
    expect(() => new FaultBudget(-1)).toThrow(/not a count/);
  });

  it('is a --nemesis kind, not part of "all" (it would defeat partition-peers)', () => {
    const listed = parseCheckArgs(['--launch', 'ensemble:3', '--nemesis', 'reconfig,kill']);
    expect(listed !== 'help' && listed.nemesis).toEqual(['reconfig', 'kill']);
    const all = parseCheckArgs(['--launch', 'ensemble:3', '--nemesis', 'all']);
    expect(all !== 'help' && all.nemesis).toEqual(['kill', 'pause', 'partition', 'slow-disk', 'disk-fault', 'partition-peers']);
    // "all" within a list is every one of them, beside the rest (it used to be refused there).
    const both = parseCheckArgs(['--launch', 'ensemble:3', '--nemesis', 'all,reconfig']);
    expect(both !== 'help' && both.nemesis).toEqual(['kill', 'pause', 'partition', 'slow-disk', 'disk-fault', 'partition-peers', 'reconfig']);
    expect(() => parseCheckArgs(['--launch', 'ensemble:3', '--nemesis', 'none,kill'])).toThrow(/unknown "none" \(none stands alone\)/);
  });
});

describe('the reconfig nemesis against a waitfree ensemble', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reconfig-nemesis-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('changes the membership beside crashes, puts every member back, and the run stays valid', async () => {
    const out = join(dir, 'run');
    const r = await runWaitfree(['check', '--launch', 'ensemble:3', '--workload', 'register,queue', '--nemesis', 'reconfig,kill', '--time', '20', '--seed', '11', '--out', out], 240_000);
    expect(r.out, r.out + r.err).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    const h = parseHistory(readFileSync(join(out, 'history.jsonl'), 'utf8'));
    // The first change gives every member the addresses it was launched with (one config for
    // all, as in a real ensemble); the others change one member and put it back.
    const [first, ...reconfigs] = h.faults.filter((f) => f.kind === 'reconfig').sort((a, b) => a.start_ms - b.start_ms);
    expect(first?.target, JSON.stringify(h.faults)).toBe('all');
    expect(first?.detail).toMatch(/^every member's addresses as launched .*; made$/);
    expect(reconfigs.length, JSON.stringify(h.faults)).toBeGreaterThan(0);
    for (const f of reconfigs) {
      expect(f.end_ms, JSON.stringify(f)).not.toBeNull();
      expect(f.detail, JSON.stringify(f)).toMatch(/\), then back; (voter -> observer|removed); a voter again$/);
    }
    // The final state was read through each member on its own (after a sync), and checked.
    const finals = new Set(h.ops.filter((o) => o.process.startsWith('final@')).map((o) => o.process));
    expect([...finals].sort()).toEqual(['final@r1', 'final@r2', 'final@r3']);
    // The members saw the changes: each server log that exists names a reconfig'd membership.
    const logs = readdirSync(out).filter((f) => f.endsWith('.log'));
    expect(logs.length).toBe(3);
    const said = logs.map((f) => readFileSync(join(out, f), 'utf8')).join('\n');
    expect(said).toMatch(/reconfig: membership version 0x[0-9a-f]+/);
  }, 300_000);
});
