// The ensemble's membership as Apache ZooKeeper writes it into /zookeeper/config (QuorumMaj's
// toString, what `getConfig` and zkCli's `config` show): one `server.N=` line per member in id
// order, `host:quorumPort:electionPort:role`, then `;clientHost:clientPort` when the line gave a
// client part (no host: 0.0.0.0, as ZooKeeper resolves it), and `version=` the config's version
// in hex: 0 for the static config of zoo.cfg, the zxid of the reconfig txn that made it
// otherwise. The text is also how a membership changed by reconfig is kept: the config node is
// replicated and durable like any znode, and parseQuorumConfigText reads it back. Pure.

import { ConfigError } from './config_error.js';
import type { EnsembleConfig, EnsembleMember } from './ensemble_config.js';
import { parseServerLine, SERVER_ID_MAX_RECONFIG } from './server_line.js';

/** A membership and its version (the zxid of the reconfig that made it; 0: zoo.cfg's). */
export interface Membership {
  /** In id order. */
  readonly members: readonly EnsembleMember[];
  readonly version: number;
}

/** A host as ZooKeeper prints it: an IPv6 literal in brackets. */
function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A member's spec as QuorumServer.toString writes it (the part after `server.N=`). */
export function memberSpecText(m: EnsembleMember): string {
  const peer = `${hostText(m.host)}:${m.quorum_port}:${m.election_port}:${m.role}`;
  if (m.client_port === null) return peer;
  return `${peer};${hostText(m.client_host ?? '0.0.0.0')}:${m.client_port}`;
}

export function membershipText(m: Membership): string {
  const lines = [...m.members].sort((a, b) => a.sid - b.sid).map((s) => `server.${s.sid}=${memberSpecText(s)}`);
  return `${lines.join('\n')}\nversion=${m.version.toString(16)}`;
}

/** The static membership of zoo.cfg (version 0). */
export function staticMembership(ensemble: EnsembleConfig): Membership {
  return { members: ensemble.members, version: 0 };
}

export function quorumConfigText(ensemble: EnsembleConfig): string {
  return membershipText(staticMembership(ensemble));
}

/**
 * Reads a text membershipText wrote (or ZooKeeper's dynamic config): `server.N=` lines and one
 * `version=` line, blank lines ignored. Throws ConfigError naming the line at fault.
 */
export function parseQuorumConfigText(text: string, where = '/zookeeper/config'): Membership {
  const members: EnsembleMember[] = [];
  let version: number | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    const at = `${where}:${i + 1}`;
    if (eq < 0) throw new ConfigError(`${at}: ${JSON.stringify(line)} is not key=value`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') {
      if (!/^[0-9a-fA-F]{1,13}$/.test(value)) throw new ConfigError(`${at}: version ${JSON.stringify(value)} is not a hex number`);
      version = parseInt(value, 16);
    } else if (key.startsWith('server.')) {
      const m = parseServerLine({ key, value, where: at }, SERVER_ID_MAX_RECONFIG);
      if (members.some((o) => o.sid === m.sid)) throw new ConfigError(`${at}: ${key} given twice`, key);
      members.push(m);
    } else {
      throw new ConfigError(`${at}: unknown key ${JSON.stringify(key)}`, key);
    }
  }
  if (version === null) throw new ConfigError(`${where}: no version= line`);
  return { members: members.sort((a, b) => a.sid - b.sid), version };
}
