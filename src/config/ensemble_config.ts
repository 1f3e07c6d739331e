// Ensemble configuration: the server.N lines of zoo.cfg plus this replica's id (dataDir/myid or
// waitfree.myid), resolved as Apache ZooKeeper 3.8 does (QuorumPeerConfig.setupQuorumPeerConfig):
//
// - no server.N line: standalone (ensemble = null), nothing else changes;
// - exactly one participant and standaloneEnabled=true (the default): standalone too, with a
//   warning (ZooKeeper logs "only one server specified (ignoring)"); observers then are an error;
// - otherwise an ensemble: myid must name one of the lines; this replica's client address comes
//   from its line's `;[host:]clientPort` when there is one (no host: 0.0.0.0, as ZooKeeper), and a
//   clientPort / clientPortAddress given too must agree with it;
//   server_id (the high byte of session ids) is the myid, so session ids differ per replica.
//
// Where waitfree is stricter than ZooKeeper (each check's error names the line or key):
// duplicate ids (server.1 and server.01), one host:port used twice among the quorum, election and
// client ports, and an explicit peerType that disagrees with this replica's line (ZooKeeper
// only warns and follows the line). Pure apart from reading dataDir/myid.

import type { ConfigField, ServerConfig } from './server_config.js';
import { ConfigError } from './config_error.js';
import { myidPath, readMyid } from './myid.js';
import { lineLabel, parseServerLine, type EnsembleMember, type ServerLine } from './server_line.js';

export type { EnsembleMember, MemberRole, ServerLine } from './server_line.js';

export interface EnsembleConfig {
  /** This replica's id (its myid); one of members[].sid. */
  readonly my_sid: number;
  /** Every server.N line, sorted by sid; at least two participants, or one with standaloneEnabled=false. */
  readonly members: readonly EnsembleMember[];
  /** initLimit and syncLimit, in ticks of tickTime (as ZooKeeper counts them). */
  readonly init_limit_ticks: number;
  readonly sync_limit_ticks: number;
  readonly read_only_mode_enabled: boolean;
}

export interface EnsembleResult {
  readonly config: ServerConfig;
  readonly warnings: readonly string[];
}

/** session ids carry server_id in their high byte; 255 there would mark TTL nodes' owners. */
const SESSION_SERVER_ID_MAX = 254;

/**
 * Attaches the ensemble (or null) to a resolved config. `lines` are the server.N entries after
 * later sources overrode earlier ones; `explicit` holds the fields a zoo.cfg line or flag set.
 */
export function resolveEnsemble(config: ServerConfig, lines: readonly ServerLine[], explicit: ReadonlySet<ConfigField>): EnsembleResult {
  if (lines.length === 0) return { config: { ...config, ensemble: null }, warnings: [] };
  const parsed = parseMembers(lines);
  const members = parsed.map((p) => p.member);
  const line_of = new Map(parsed.map((p) => [p.member.sid, p.line]));
  const voters = members.filter((m) => m.role === 'participant').length;
  const first = line_of.get(members[0]!.sid)!;
  const standalone = standaloneFallback(config, members, line_of);
  if (standalone !== null) return { config: { ...config, ensemble: null }, warnings: [standalone] };
  const me = myMember(config, members, line_of);
  const my_line = line_of.get(me.member.sid)!;
  checkPeerType(config, explicit, me.member, my_line);
  const client = clientAddress(config, explicit, me.member, my_line);
  checkEndpoints(members, line_of, me.member.sid, client.client_port);
  const server_id = serverIdFor(config, explicit, me);
  const ensemble: EnsembleConfig = {
    my_sid: me.member.sid,
    members,
    init_limit_ticks: config.init_limit_ticks,
    sync_limit_ticks: config.sync_limit_ticks,
    read_only_mode_enabled: config.read_only_mode_enabled,
  };
  return {
    config: { ...config, ...client, server_id, my_id: me.member.sid, peer_type: me.member.role, ensemble },
    warnings: sizeWarnings(voters, first),
  };
}

/**
 * ZooKeeper's rules on the number of participants (parseDynamicConfig): none is an error; one
 * with standaloneEnabled=true means standalone (the warning returned), and then observers are an
 * error. Null: an ensemble.
 */
function standaloneFallback(config: ServerConfig, members: readonly EnsembleMember[], line_of: ReadonlyMap<number, ServerLine>): string | null {
  const voters = members.filter((m) => m.role === 'participant');
  const observer = members.find((m) => m.role === 'observer');
  if (voters.length === 0) {
    const first = line_of.get(members[0]!.sid)!;
    throw new ConfigError(`${lineLabel(first)}: every server.N line is an observer: an ensemble needs at least one participant (voter)`, first.key);
  }
  if (voters.length > 1 || !config.standalone_enabled) return null;
  if (observer !== undefined) {
    const obs = line_of.get(observer.sid)!;
    throw new ConfigError(
      `${lineLabel(obs)}: observers without a quorum: one participant with standaloneEnabled=true runs standalone; add participants or set standaloneEnabled=false`,
      obs.key,
    );
  }
  const only = line_of.get(voters[0]!.sid)!;
  return `${lineLabel(only)}: only one server specified: running standalone, as ZooKeeper does with standaloneEnabled=true (set standaloneEnabled=false for a one-server ensemble)`;
}

/** Parses every line, sorted by sid; two keys naming one id (server.1, server.01) are an error naming both. */
function parseMembers(lines: readonly ServerLine[]): { member: EnsembleMember; line: ServerLine }[] {
  const seen = new Map<number, ServerLine>();
  const out: { member: EnsembleMember; line: ServerLine }[] = [];
  for (const line of lines) {
    const member = parseServerLine(line);
    const before = seen.get(member.sid);
    if (before !== undefined) {
      throw new ConfigError(`${lineLabel(line)}: server id ${member.sid} is also given by ${before.key} (${before.where}): ids must be unique`, line.key);
    }
    seen.set(member.sid, line);
    out.push({ member, line });
  }
  return out.sort((a, b) => a.member.sid - b.member.sid);
}

interface Me {
  readonly member: EnsembleMember;
  /** Where the id came from, for messages: `waitfree.myid` or the myid file's path. */
  readonly source: string;
}

function myMember(config: ServerConfig, members: readonly EnsembleMember[], line_of: ReadonlyMap<number, ServerLine>): Me {
  const ids = members.map((m) => m.sid).join(', ');
  const first = line_of.get(members[0]!.sid)!;
  let sid: number;
  let source: string;
  if (config.my_id !== -1) {
    sid = config.my_id;
    source = 'waitfree.myid';
  } else {
    const read = readMyid(config.data_dir);
    source = myidPath(config.data_dir);
    if (read === null) {
      throw new ConfigError(
        `${source}: myid file is missing: the server.N lines (${first.where}) make this server an ensemble member, ` +
          `which needs its id (one of ${ids}) in dataDir/myid, or set waitfree.myid (--myid)`,
        'waitfree.myid',
      );
    }
    sid = read;
  }
  const member = members.find((m) => m.sid === sid);
  if (member === undefined) {
    throw new ConfigError(`myid ${sid} (from ${source}) is not among the server.N lines (ids ${ids}; ${first.where})`, 'waitfree.myid');
  }
  return { member, source };
}

function checkPeerType(config: ServerConfig, explicit: ReadonlySet<ConfigField>, me: EnsembleMember, line: ServerLine): void {
  if (!explicit.has('peer_type') || config.peer_type === me.role) return;
  throw new ConfigError(
    `peerType=${config.peer_type} disagrees with this server's line ${lineLabel(line)} (${me.role}): make them agree`,
    'peerType',
  );
}

const ANY_ADDRESS = '0.0.0.0';
const WILDCARDS = new Set([ANY_ADDRESS, '::', '0:0:0:0:0:0:0:0']);

/**
 * This replica's client port and address when its line has `;[host:]port` (ZooKeeper's
 * setupClientPort): the line's address wins; no host there means every address (0.0.0.0), as
 * ZooKeeper reads it. A clientPort given too must be the same port, and a clientPortAddress given
 * (other than a wildcard) the same host: ZooKeeper refuses the config otherwise, and so do we.
 */
function clientAddress(
  config: ServerConfig,
  explicit: ReadonlySet<ConfigField>,
  me: EnsembleMember,
  line: ServerLine,
): { client_port: number; client_port_address: string } {
  if (me.client_port === null) return { client_port: config.client_port, client_port_address: config.client_port_address };
  const line_host = me.client_host ?? ANY_ADDRESS;
  if (explicit.has('client_port') && config.client_port !== me.client_port) {
    throw new ConfigError(
      `clientPort=${config.client_port} disagrees with the client port ${me.client_port} of this server's line ${lineLabel(line)}: give one of them, or the same port`,
      'clientPort',
    );
  }
  const given = config.client_port_address;
  if (explicit.has('client_port_address') && !WILDCARDS.has(given) && given.toLowerCase() !== line_host.toLowerCase()) {
    const hint = me.client_host === null ? ` (a client port without a host means every address, ${ANY_ADDRESS}, as in ZooKeeper: write ;${given}:${me.client_port})` : '';
    throw new ConfigError(
      `clientPortAddress=${given} disagrees with the client address ${line_host} of this server's line ${lineLabel(line)}${hint}: give one of them, or the same address`,
      'clientPortAddress',
    );
  }
  return { client_port: me.client_port, client_port_address: line_host };
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** `quorum port of server.2 (zoo.cfg:4)` */
  readonly what: string;
  readonly line: ServerLine;
}

/** The host a client endpoint is on: its own host unless it is a wildcard or unset. */
function clientHostOf(m: EnsembleMember): string {
  return m.client_host === null || WILDCARDS.has(m.client_host) ? m.host : m.client_host;
}

function endpointsOf(m: EnsembleMember, line: ServerLine, my_sid: number, my_client_port: number): Endpoint[] {
  const at = `server.${m.sid} (${line.where})`;
  const out: Endpoint[] = [
    { host: m.host, port: m.quorum_port, what: `quorum port of ${at}`, line },
    { host: m.host, port: m.election_port, what: `election port of ${at}`, line },
  ];
  if (m.client_port !== null) out.push({ host: clientHostOf(m), port: m.client_port, what: `client port of ${at}`, line });
  else if (m.sid === my_sid && my_client_port !== 0) out.push({ host: m.host, port: my_client_port, what: `clientPort of this server, ${at}`, line });
  return out;
}

/** Two members (or one member twice) on one host:port cannot both bind it. */
function checkEndpoints(members: readonly EnsembleMember[], line_of: ReadonlyMap<number, ServerLine>, my_sid: number, my_client_port: number): void {
  const taken = new Map<string, Endpoint>();
  for (const m of members) {
    for (const e of endpointsOf(m, line_of.get(m.sid)!, my_sid, my_client_port)) {
      const key = `${e.host.toLowerCase()}|${e.port}`;
      const before = taken.get(key);
      if (before !== undefined) {
        throw new ConfigError(`${lineLabel(e.line)}: ${e.host}:${e.port} is both the ${before.what} and the ${e.what}: each port is bound once per host`, e.line.key);
      }
      taken.set(key, e);
    }
  }
}

function serverIdFor(config: ServerConfig, explicit: ReadonlySet<ConfigField>, me: Me): number {
  const sid = me.member.sid;
  if (sid > SESSION_SERVER_ID_MAX) {
    throw new ConfigError(
      `myid ${sid} (from ${me.source}): waitfree needs 0..${SESSION_SERVER_ID_MAX} (the id is the high byte of session ids, and 255 there marks TTL nodes; ZooKeeper has the same limit with TTL nodes enabled)`,
      'waitfree.myid',
    );
  }
  if (explicit.has('server_id') && config.server_id !== sid) {
    throw new ConfigError(
      `waitfree.serverId=${config.server_id} disagrees with myid ${sid} (from ${me.source}): in an ensemble the server id is the myid; remove waitfree.serverId`,
      'waitfree.serverId',
    );
  }
  return sid;
}

/** ZooKeeper's advice on quorum sizes, as warnings. */
function sizeWarnings(voters: number, first: ServerLine): string[] {
  if (voters <= 2) return [`${first.where}: server.N: ${voters} participant${voters === 1 ? '' : 's'}: no server failure will be tolerated; you need at least 3 servers`];
  if (voters % 2 === 0) return [`${first.where}: server.N: ${voters} participants: consider an odd number (${voters - 1} tolerate as many failures)`];
  return [];
}
