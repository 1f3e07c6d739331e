// The watch work of a session shard that is too big for one turn of its loop: removing the
// entries of a closed connection that held many watches (WatchTable.workStep), and building
// watch listings for wchc / wchp (ListingJob). The shard calls step() once per loop turn, between
// ring polls, so other sessions are served between slices; each step visits at most
// `slice_entries` entries (waitfree.watch.sliceEntries).
//
// Removals go first: they make the totals exact again and free memory. Listings run one at a
// time, oldest first; at most LISTINGS_QUEUED_MAX wait (each may hold up to its bytes_max of
// encoded output), more are refused with an error instead of piling up.

import { ListingJob, type SessionOf, type WatchListingPart, type WatchListingRequest } from './watch_listing.js';
import type { WatchTable } from './watch_table.js';

/** Listings a shard builds or holds queued at once (the supervisor shares one per order). */
export const LISTINGS_QUEUED_MAX = 4;

interface Queued {
  readonly job: ListingJob;
  readonly resolve: (part: WatchListingPart) => void;
}

export class WatchWork {
  private readonly listings: Queued[] = [];

  constructor(
    private readonly table: WatchTable,
    private readonly slice_entries: number,
  ) {}

  /** Queues a listing; it resolves once built (over as many steps as it takes). */
  list(request: WatchListingRequest, session_of: SessionOf): Promise<WatchListingPart> {
    if (this.listings.length >= LISTINGS_QUEUED_MAX) {
      return Promise.reject(new Error(`${LISTINGS_QUEUED_MAX} watch listings are already being built; try again later`));
    }
    return new Promise((resolve) => this.listings.push({ job: new ListingJob(this.table, request, session_of), resolve }));
  }

  /** True while step() has something to do. */
  pending(): boolean {
    return this.listings.length > 0 || this.table.hasPendingRemovals();
  }

  /** One slice of work: at most slice_entries entries removed or listed. */
  step(): void {
    let budget = this.slice_entries;
    if (this.table.hasPendingRemovals()) budget -= this.table.workStep(budget);
    while (budget > 0 && this.listings.length > 0) {
      const head = this.listings[0];
      budget -= head.job.step(budget);
      if (!head.job.isDone()) break;
      this.listings.shift();
      head.resolve(head.job.result());
    }
  }
}
