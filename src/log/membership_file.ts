// The committed membership of the last reconfig this replica applied, in `dataDir/membership`:
// ZooKeeper's dynamic config text (`server.N=` lines, `version=` the reconfig's zxid in hex), as
// ZooKeeper writes its zoo.cfg.dynamic.<version> when a reconfig commits.
//
// Why a file beside the snapshot: /zookeeper/config is durable in the snapshot, but a snapshot is
// written only every snapCount txns; between two, the reconfig is only in the log, where a
// restarted replica cannot tell whether it committed (it may be a proposal a new leader
// truncates). Restarted with it in flight, every replica counts the old voters as the only
// candidates; the Zab simulator found that after a restart of all, those can all be behind a
// voter of the committed membership, and no leader is elected again (seed 97831). A reconfig is
// applied only once committed: the file holds committed knowledge, and everything before its
// version in the log is committed too.
//
// Written as membership.tmp, fdatasynced, renamed over `membership`, directory fsynced: after a
// crash the file holds the old membership or the new one. Rare (one write per reconfig).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config_error.js';
import { parseQuorumConfigText, type Membership } from '../config/quorum_config_text.js';
import { replaceFileSync } from './data_dir.js';

export const MEMBERSHIP_FILE = 'membership';

export const MembershipFile = {
  path(dir: string): string {
    return join(dir, MEMBERSHIP_FILE);
  },

  /** The membership in the file, or null when there is none (no reconfig applied here yet).
   *  Throws ConfigError naming the file when it cannot be read or parsed. */
  readSync(dir: string): Membership | null {
    const path = MembershipFile.path(dir);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ConfigError(`${path}: cannot read (${(e as Error).message}); remove it to start from the snapshot's membership`);
    }
    const m = parseQuorumConfigText(text, path);
    if (m.version === 0) throw new ConfigError(`${path}: version=0 (a reconfig's membership has the reconfig's zxid)`);
    return m;
  },

  /** Writes `data` (a reconfig's config text) durably (unless fsync is false) before returning. */
  writeSync(dir: string, data: Uint8Array, fsync: boolean): void {
    replaceFileSync(dir, MEMBERSHIP_FILE, data, fsync);
  },
};
