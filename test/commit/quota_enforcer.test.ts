// zookeeper.enforceQuota's bookkeeping around the verdicts: refusals counted per top namespace
// (mntr's zk_<ns>_quota_exceeded_error_per_namespace), soft overs not counted, and the log lines
// of both rate-limited (a client hammering a full quota cannot flood the server's log).

import { describe, expect, it } from 'vitest';
import { QuotaEnforcer } from '../../src/commit/quota_enforcer.js';
import type { QuotaVerdict } from '../../src/tree/quota.js';

function enforcer(verdicts: Record<string, QuotaVerdict>) {
  const lines: string[] = [];
  let now = 1_000;
  const e = new QuotaEnforcer(
    (path) => {
      const quota = Object.keys(verdicts).find((q) => path.startsWith(q));
      return quota === undefined ? null : { quota, verdict: verdicts[quota] };
    },
    (line) => lines.push(line),
    () => now,
  );
  return { e, lines, advance: (ms: number) => (now += ms) };
}

describe('QuotaEnforcer', () => {
  it('passes the verdict on; counts refusals by top namespace, not soft overs nor writes within', () => {
    const { e } = enforcer({ '/hard/q': 'hard', '/soft': 'soft', '/ok': 'within' });
    expect(e.check('/hard/q/a', 1, 1)).toBe('hard');
    expect(e.check('/hard/q/b', 5, 0)).toBe('hard');
    expect(e.check('/soft/a', 1, 1)).toBe('soft');
    expect(e.check('/ok/a', 1, 1)).toBe('within');
    expect(e.check('/none/a', 1, 1)).toBe('within');
    expect([...e.exceeded_by_namespace]).toEqual([['hard', 2]]);
  });

  it('logs at most one line a second, saying how many it held back', () => {
    const { e, lines, advance } = enforcer({ '/q': 'hard' });
    for (let i = 0; i < 50; i++) e.check(`/q/n${i}`, 0, 1);
    expect(lines).toEqual(['quota exceeded: /q over its hard limit (create of /q/n0, refused)']);
    advance(1_000);
    e.check('/q/x', 3, 0);
    expect(lines[1]).toBe('quota exceeded: /q over its hard limit (setData of /q/x, refused); 49 more since the last such line');
  });
});
