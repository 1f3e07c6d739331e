// zookeeper.enforceQuota on the replica that preps writes: prep asks `check` for each create and
// setData; a write over a hard limit is refused (prep answers QUOTAEXCEEDED) and counted per
// namespace (mntr's zk_<ns>_quota_exceeded_error_per_namespace); one over a soft limit goes
// through. Both are logged, at most once per LOG_INTERVAL_MS (ZooKeeper rate-limits them too).

import type { QuotaCheck } from '../tree/prep.js';
import type { QuotaVerdict } from '../tree/quota.js';
import { topNamespace } from './quota_metrics.js';

/** What the enforcer reads: the quota over a path and the write's verdict (Applier.quotaVerdict). */
export type QuotaVerdictOf = (path: string, bytes_diff: number, count_diff: number) => { quota: string; verdict: QuotaVerdict } | null;

const LOG_INTERVAL_MS = 1000;

export class QuotaEnforcer {
  private readonly exceeded = new Map<string, number>();
  private next_log_ms = 0;
  private unlogged = 0;

  constructor(
    private readonly verdictOf: QuotaVerdictOf,
    private readonly log: (line: string) => void,
    private readonly now_ms: () => number,
  ) {}

  /** Writes refused QUOTAEXCEEDED, by the top namespace of their path. */
  get exceeded_by_namespace(): ReadonlyMap<string, number> {
    return this.exceeded;
  }

  readonly check: QuotaCheck = (path, bytes_diff, count_diff) => {
    const found = this.verdictOf(path, bytes_diff, count_diff);
    if (found === null || found.verdict === 'within') return 'within';
    if (found.verdict === 'hard') {
      const namespace = topNamespace(path);
      if (namespace !== null) this.exceeded.set(namespace, (this.exceeded.get(namespace) ?? 0) + 1);
    }
    this.note(`quota exceeded: ${found.quota} over its ${found.verdict} limit (${count_diff === 0 ? 'setData' : 'create'} of ${path}${found.verdict === 'hard' ? ', refused' : ''})`);
    return found.verdict;
  };

  private note(line: string): void {
    const now = this.now_ms();
    if (now < this.next_log_ms) {
      this.unlogged++;
      return;
    }
    this.log(this.unlogged === 0 ? line : `${line}; ${this.unlogged} more since the last such line`);
    this.unlogged = 0;
    this.next_log_ms = now + LOG_INTERVAL_MS;
  }
}
