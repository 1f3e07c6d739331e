// An admin control for tests of the admin answers without threads: records the resets asked
// for and keeps the trace mask as the replica's does.

import type { AdminControl } from '../../src/admin/http/replica_sources.js';
import { DEFAULT_TRACE_MASK } from '../../src/admin/four_letter.js';
import type { StatsReset } from '../../src/workers/control.js';

export class RecordingControl implements AdminControl {
  trace_mask = DEFAULT_TRACE_MASK;
  readonly resets: StatsReset[] = [];

  resetStats(scope: StatsReset): Promise<void> {
    this.resets.push(scope);
    return Promise.resolve();
  }

  setTraceMask(mask: bigint): void {
    this.trace_mask = mask;
  }
}
