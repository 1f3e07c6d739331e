// Settings shared by every server `waitfree check` launches, and the zoo.cfg lines they all get
// (waitfree and Apache ZooKeeper read the same keys; ZooKeeper takes a key it does not know,
// such as DigestAuthenticationProvider.superDigest, as the system property zookeeper.<key>).

import { checkExtraCfg } from '../config/ensemble_layout.js';
import { reconfigCfgLines } from './reconfig_nemesis.js';

export interface LaunchSettings {
  readonly tick_time_ms: number;
  readonly start_timeout_ms: number;
  /** Snapshots every snapCount/2..snapCount txns: small, so runs cross snapshots and recoveries. */
  readonly snap_count: number;
  /** reconfigEnabled and the reconfig nemesis' super user (reconfig_nemesis.ts). */
  readonly reconfig: boolean;
  /** The user's own zoo.cfg lines (`--server-config KEY=VALUE`), after the common ones, so they win
   *  over them; checked not to name what the launcher sets per server (checkServerConfig). */
  readonly server_config: readonly string[];
}

export const LAUNCH_DEFAULTS: LaunchSettings = { tick_time_ms: 1000, start_timeout_ms: 60_000, snap_count: 2000, reconfig: false, server_config: [] };

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
    ...s.server_config,
  ];
}

/** `--server-config` lines: KEY=VALUE each, and no key the launcher sets per server (ports, dirs,
 *  server.N lines); throws naming the first bad one. */
export function checkServerConfig(lines: readonly string[]): void {
  for (const line of lines) {
    if (!/^[A-Za-z][\w.-]*=/.test(line)) throw new Error(`--server-config ${JSON.stringify(line)}: not KEY=VALUE`);
  }
  checkExtraCfg(lines.join('\n') + '\n', '--server-config');
}
