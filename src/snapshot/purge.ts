// Retention (autopurge, on by default): keep the newest `retain` snapshots and every log segment
// that a retained snapshot still needs for replay; everything older can go.

import type { DirListing } from '../log/data_dir.js';

export interface PurgePlan {
  snapshots: string[];
  segments: string[];
}

/**
 * Segment i holds zxids [first_i, first_{i+1} - 1]; the oldest retained snapshot at S needs
 * every txn after S, so segment i can go when first_{i+1} <= S + 1. The last segment always stays.
 */
export function purgePlan(listing: DirListing, retain: number): PurgePlan {
  if (!Number.isInteger(retain) || retain < 1) throw new RangeError(`retain must be >= 1: ${retain}`);
  const snaps = listing.snapshots;
  if (snaps.length <= retain) return { snapshots: [], segments: [] };
  const oldest_kept = snaps[snaps.length - retain].zxid;
  const snapshots = snaps.slice(0, snaps.length - retain).map((s) => s.path);
  const segs = listing.segments;
  const segments: string[] = [];
  for (let i = 0; i + 1 < segs.length; i++) {
    if (segs[i + 1].zxid <= oldest_kept + 1) segments.push(segs[i].path);
  }
  return { snapshots, segments };
}
