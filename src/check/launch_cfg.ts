// Settings shared by every server `waitfree check` launches, and the zoo.cfg lines they all get
// (waitfree and Apache ZooKeeper read the same keys; ZooKeeper takes a key it does not know,
// such as DigestAuthenticationProvider.superDigest, as the system property zookeeper.<key>).

import { reconfigCfgLines } from './reconfig_nemesis.js';

export interface LaunchSettings {
  readonly tick_time_ms: number;
  readonly start_timeout_ms: number;
  /** Snapshots every snapCount/2..snapCount txns: small, so runs cross snapshots and recoveries. */
  readonly snap_count: number;
  /** reconfigEnabled and the reconfig nemesis' super user (reconfig_nemesis.ts). */
  readonly reconfig: boolean;
}

export const LAUNCH_DEFAULTS: LaunchSettings = { tick_time_ms: 1000, start_timeout_ms: 60_000, snap_count: 2000, reconfig: false };

/** Lines every launched server's zoo.cfg starts with: 127.0.0.1 only, no admin HTTP server. */
export function commonCfg(port: number, data_dir: string, s: LaunchSettings): string[] {
  return [
    `tickTime=${s.tick_time_ms}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    `dataDir=${data_dir}`,
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    `snapCount=${s.snap_count}`,
    ...(s.reconfig ? reconfigCfgLines() : []),
  ];
}
