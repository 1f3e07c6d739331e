// The files of a local ensemble (`waitfree ensemble`, test/support/ensemble.ts): one directory
// per member (r1, r2, ...) holding its zoo.cfg and its dataDir (with myid), every port on
// 127.0.0.1. Pure apart from writeLayout.
//
// Ports from a base (portsFromBase), for member i = 0..n-1 (sid i + 1):
//   client base + i, quorum base + 1000 + 2i, election base + 1001 + 2i, admin base + 2000 + i.
// With n <= ENSEMBLE_MEMBERS_MAX the three ranges never overlap.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from './config_error.js';
import { readMyid, myidPath } from './myid.js';
import { keyByName, type ConfigField } from './server_config.js';
import { formatServerLine, isServerKey, type EnsembleMember, type MemberRole } from './server_line.js';
import { parseZooCfg } from './zoo_cfg.js';

/** Members of one local ensemble at most: every member is a process with several threads on
 *  this machine, and the port ranges below stay disjoint up to here. */
export const ENSEMBLE_MEMBERS_MAX = 32;
const QUORUM_PORT_OFFSET = 1000;
const ADMIN_PORT_OFFSET = 2000;
const PORT_MAX = 65535;
export const LOOPBACK = '127.0.0.1';

export interface MemberPorts {
  readonly client_port: number;
  readonly quorum_port: number;
  readonly election_port: number;
  /** The admin HTTP server's port; null = admin server disabled. */
  readonly admin_port: number | null;
}

export interface LayoutMember {
  readonly sid: number;
  readonly role: MemberRole;
  /** `r1`, `r2`, ...: the name output is prefixed with. */
  readonly name: string;
  readonly dir: string;
  readonly data_dir: string;
  readonly cfg_path: string;
  readonly ports: MemberPorts;
}

export interface EnsembleLayout {
  /** Absolute. */
  readonly root: string;
  readonly replicas: number;
  readonly observers: number;
  /** sid order: the participants first (sids 1..replicas), then the observers. */
  readonly members: readonly LayoutMember[];
  /** Every member's client address, for clients (`127.0.0.1:2181,127.0.0.1:2182,...`). */
  readonly connect_string: string;
}

/** Checks the member counts; the message names the flag-like option at fault. */
export function checkMemberCounts(replicas: number, observers: number): void {
  if (!Number.isSafeInteger(replicas) || replicas < 1) throw new ConfigError(`replicas: ${replicas} is not an integer >= 1`);
  if (!Number.isSafeInteger(observers) || observers < 0) throw new ConfigError(`observers: ${observers} is not an integer >= 0`);
  if (replicas + observers > ENSEMBLE_MEMBERS_MAX) {
    throw new ConfigError(`replicas + observers: ${replicas + observers} members is more than ${ENSEMBLE_MEMBERS_MAX} (one machine runs them all)`);
  }
}

/** The fixed port scheme above; throws if the highest port would pass 65535. */
export function portsFromBase(base_port: number, count: number): MemberPorts[] {
  const highest = base_port + ADMIN_PORT_OFFSET + count - 1;
  if (!Number.isSafeInteger(base_port) || base_port < 1 || highest > PORT_MAX) {
    throw new ConfigError(
      `base port ${base_port}: the ports of ${count} members run up to base + ${ADMIN_PORT_OFFSET + count - 1}; use a base port in 1..${PORT_MAX - ADMIN_PORT_OFFSET - count + 1}`,
    );
  }
  return Array.from({ length: count }, (_, i) => ({
    client_port: base_port + i,
    quorum_port: base_port + QUORUM_PORT_OFFSET + 2 * i,
    election_port: base_port + QUORUM_PORT_OFFSET + 2 * i + 1,
    admin_port: base_port + ADMIN_PORT_OFFSET + i,
  }));
}

/** Members r1..rN under `root`; `ports[i]` is member i's (sid i + 1). */
export function planLayout(root: string, replicas: number, observers: number, ports: readonly MemberPorts[]): EnsembleLayout {
  checkMemberCounts(replicas, observers);
  const count = replicas + observers;
  if (ports.length !== count) throw new ConfigError(`ensemble layout: ${ports.length} port sets for ${count} members`);
  const abs = resolve(root);
  const members = ports.map((p, i): LayoutMember => {
    const name = `r${i + 1}`;
    const dir = join(abs, name);
    return { sid: i + 1, role: i < replicas ? 'participant' : 'observer', name, dir, data_dir: join(dir, 'data'), cfg_path: join(dir, 'zoo.cfg'), ports: p };
  });
  const connect_string = members.map((m) => `${LOOPBACK}:${m.ports.client_port}`).join(',');
  return { root: abs, replicas, observers, members, connect_string };
}

function memberLine(m: LayoutMember): string {
  const member: EnsembleMember = {
    sid: m.sid,
    host: LOOPBACK,
    quorum_port: m.ports.quorum_port,
    election_port: m.ports.election_port,
    role: m.role,
    // With a host: without one ZooKeeper reads "every address", which clientPortAddress below contradicts.
    client_host: LOOPBACK,
    client_port: m.ports.client_port,
  };
  return `server.${m.sid}=${formatServerLine(member)}`;
}

/** Fields the layout sets for each member: an extra config may not change them. */
const OWNED_FIELDS: ReadonlySet<ConfigField> = new Set<ConfigField>([
  'data_dir', 'data_log_dir', 'client_port', 'client_port_address', 'admin_server_port', 'peer_type', 'my_id', 'server_id',
]);

/** Throws a ConfigError naming the first key of `text` that the layout owns (server.N, dataDir, ...). */
export function checkExtraCfg(text: string, source: string): void {
  for (const [name, entry] of parseZooCfg(text, source)) {
    const spec = keyByName(name);
    const owned = isServerKey(name) || /^(group|weight)\./.test(name) || name === 'dynamicConfigFile' || (spec !== undefined && OWNED_FIELDS.has(spec.field));
    if (owned) throw new ConfigError(`${source}:${entry.line}: ${name}: set by the ensemble layout for each member; remove it from the extra config`, name);
  }
}

/** A value as Java Properties reads it back: backslashes doubled, leading blanks escaped. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/^([ \t\f])/, '\\$1');
}

/** One member's zoo.cfg. `extra` (already checked by checkExtraCfg) comes last, so its keys win. */
export function memberCfgText(layout: EnsembleLayout, m: LayoutMember, extra: { text: string; source: string } | null): string {
  const lines = [
    `# waitfree ensemble member ${m.name}: server.${m.sid} (${m.role}); ${layout.replicas} participant(s), ${layout.observers} observer(s).`,
    '# Written by the ensemble launcher, and rewritten each time it starts this ensemble.',
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${escapeValue(m.data_dir)}`,
    `clientPortAddress=${LOOPBACK}`,
    `clientPort=${m.ports.client_port}`,
    m.ports.admin_port === null ? 'admin.enableServer=false' : `admin.serverPort=${m.ports.admin_port}`,
    '4lw.commands.whitelist=*',
  ];
  // One participant would run standalone under ZooKeeper's default (standaloneEnabled=true).
  if (layout.replicas === 1) lines.push('standaloneEnabled=false');
  if (m.role === 'observer') lines.push('peerType=observer');
  lines.push(...layout.members.map(memberLine));
  if (extra !== null) lines.push(`# from ${extra.source}`, extra.text.trimEnd());
  return lines.join('\n') + '\n';
}

/**
 * Creates each member's directory, data directory and myid (kept when present: a reused
 * directory keeps its data), and (re)writes each zoo.cfg. A myid that names another id means
 * the directory belongs to another layout: a ConfigError naming the file.
 */
export function writeLayout(layout: EnsembleLayout, extra: { text: string; source: string } | null): void {
  for (const m of layout.members) {
    mkdirSync(m.data_dir, { recursive: true });
    const existing = readMyid(m.data_dir);
    if (existing !== null && existing !== m.sid) {
      throw new ConfigError(`${myidPath(m.data_dir)}: holds ${existing}, but ${m.name} is server.${m.sid}: this directory was made for another ensemble`);
    }
    if (existing === null) writeFileSync(myidPath(m.data_dir), `${m.sid}\n`);
    writeFileSync(m.cfg_path, memberCfgText(layout, m, extra));
  }
}

/** True when `root` already holds a member directory (a reused --data-dir). */
export function layoutExists(layout: EnsembleLayout): boolean {
  return layout.members.some((m) => existsSync(m.data_dir));
}
