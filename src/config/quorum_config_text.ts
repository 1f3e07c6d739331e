// The ensemble's membership as Apache ZooKeeper writes it into /zookeeper/config (QuorumMaj's
// toString, what `getConfig` and zkCli's `config` show): one `server.N=` line per member in id
// order, `host:quorumPort:electionPort:role`, then `;clientHost:clientPort` when the line gave a
// client part (no host: 0.0.0.0, as ZooKeeper resolves it), and `version=` the config's version
// in hex (0: a static config; reconfig is disabled). Pure.

import type { EnsembleConfig, EnsembleMember } from './ensemble_config.js';

/** A host as ZooKeeper prints it: an IPv6 literal in brackets. */
function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function memberText(m: EnsembleMember): string {
  const peer = `${hostText(m.host)}:${m.quorum_port}:${m.election_port}:${m.role}`;
  if (m.client_port === null) return peer;
  return `${peer};${hostText(m.client_host ?? '0.0.0.0')}:${m.client_port}`;
}

export function quorumConfigText(ensemble: EnsembleConfig): string {
  const lines = [...ensemble.members].sort((a, b) => a.sid - b.sid).map((m) => `server.${m.sid}=${memberText(m)}`);
  return `${lines.join('\n')}\nversion=0`;
}
