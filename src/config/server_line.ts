// One `server.N=...` line of zoo.cfg, as ZooKeeper 3.8 reads it (QuorumPeer.QuorumServer):
//
//   server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
//
// - host may be an IPv4 address, a host name, or an IPv6 address in brackets ([::1]);
// - the role is matched case-insensitively (ZooKeeper trims and lower-cases it);
// - a trailing ';' with nothing after it is ignored (Java's split drops trailing empty strings);
// - a client part without a host means "every address" for ZooKeeper (0.0.0.0): client_host is
//   null then, and ensemble_config.ts binds that member's client port on 0.0.0.0 as ZooKeeper does;
// - several addresses joined by '|' (ZooKeeper's multiAddress.enabled, off by default) are refused.
// Pure: every error is a ConfigError naming the line (`zoo.cfg:7: server.2: ...`).

import { ConfigError } from './config_error.js';
import { isHost } from './values.js';

/** Server ids: ZooKeeper documents 1..255 for myid and accepts 0 (its C client tests use server.0). */
export const SERVER_ID_MIN = 0;
export const SERVER_ID_MAX = 255;
const PORT_MIN = 1;
const PORT_MAX = 65535;

export type MemberRole = 'participant' | 'observer';

/** A `server.N` entry as it appears in a config source, before it is parsed. */
export interface ServerLine {
  /** The key as written (`server.1`, `server.01`): both name sid 1. */
  readonly key: string;
  readonly value: string;
  /** `file:line`, for messages. */
  readonly where: string;
}

export interface EnsembleMember {
  readonly sid: number;
  readonly host: string;
  readonly quorum_port: number;
  readonly election_port: number;
  readonly role: MemberRole;
  /** From `;clientHost:clientPort`; null when the line gives no host (ZooKeeper: every address, 0.0.0.0). */
  readonly client_host: string | null;
  /** From `;clientPort`; null when the line has no client part (the member's clientPort applies). */
  readonly client_port: number | null;
}

/** True for keys of the server.N family (ZooKeeper: key.startsWith("server.")). */
export function isServerKey(name: string): boolean {
  return name.startsWith('server.');
}

/** `file:line: server.N` (the prefix of every message about a line). */
export function lineLabel(line: ServerLine): string {
  return `${line.where}: ${line.key}`;
}

function fail(line: ServerLine, what: string): never {
  throw new ConfigError(`${lineLabel(line)}: ${what}`, line.key);
}

/** Largest server id a reconfig may add (the peer hello's u32). */
export const SERVER_ID_MAX_RECONFIG = 0xffff_ffff;

/** The id in `server.N`: decimal digits in SERVER_ID_MIN..sid_max (zoo.cfg: SERVER_ID_MAX). */
export function serverIdOf(line: ServerLine, sid_max = SERVER_ID_MAX): number {
  const text = line.key.slice('server.'.length);
  const sid = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(sid >= SERVER_ID_MIN && sid <= sid_max)) {
    fail(line, `${JSON.stringify(text)} is not a server id (expected an integer in ${SERVER_ID_MIN}..${sid_max}${sid_max === SERVER_ID_MAX ? ', as in myid' : ''})`);
  }
  return sid;
}

/**
 * ZooKeeper's ConfigUtils.getHostAndPort: `[v6]:a:b` → ['v6', 'a', 'b'], else split on ':'.
 * Returns null for an unclosed bracket or a bracket not followed by ':'.
 */
function hostAndParts(text: string): string[] | null {
  if (!text.startsWith('[')) return text.split(':');
  const close = text.indexOf(']');
  if (close < 0) return null;
  if (close === text.length - 1) return [text.slice(1, close)];
  if (text[close + 1] !== ':') return null;
  return [text.slice(1, close), ...text.slice(close + 2).split(':')];
}

function parsePort(line: ServerLine, text: string, what: string): number {
  const t = text.trim();
  const port = /^\d{1,5}$/.test(t) ? Number(t) : Number.NaN;
  if (!(port >= PORT_MIN && port <= PORT_MAX)) fail(line, `${what} ${JSON.stringify(t)} is not a port (expected ${PORT_MIN}..${PORT_MAX})`);
  return port;
}

function parseHost(line: ServerLine, text: string, what: string): string {
  const h = text.trim();
  if (!isHost(h)) fail(line, `${what} ${JSON.stringify(h)} is not an IP address or host name (IPv6 goes in brackets: [::1])`);
  return h;
}

function parseRole(line: ServerLine, text: string): MemberRole {
  const t = text.trim().toLowerCase();
  if (t === 'participant' || t === 'observer') return t;
  return fail(line, `unrecognised peer type ${JSON.stringify(text.trim())} (expected participant or observer)`);
}

const FORMAT = 'expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]';

function parseClientPart(line: ServerLine, text: string): { host: string | null; port: number } {
  const parts = hostAndParts(text.trim());
  if (parts === null || parts.length > 2) fail(line, `client address ${JSON.stringify(text)} is malformed (${FORMAT})`);
  if (parts.length === 1) return { host: null, port: parsePort(line, parts[0]!, 'client port') };
  return { host: parseHost(line, parts[0]!, 'client host'), port: parsePort(line, parts[1]!, 'client port') };
}

/** Parses one line; `sid` comes from its key (serverIdOf). */
export function parseServerLine(line: ServerLine, sid_max = SERVER_ID_MAX): EnsembleMember {
  const sid = serverIdOf(line, sid_max);
  const halves = line.value.split(';');
  while (halves.length > 1 && halves[halves.length - 1]!.trim() === '') halves.pop();
  if (halves.length > 2) fail(line, `more than one ';' in ${JSON.stringify(line.value)} (${FORMAT})`);
  const server_part = halves[0]!.trim();
  if (server_part.includes('|')) {
    fail(line, 'several addresses joined by | (ZooKeeper\'s multiAddress.enabled) are not supported: give one host');
  }
  const parts = hostAndParts(server_part);
  if (parts === null || parts.length < 3 || parts.length > 4) fail(line, `${JSON.stringify(line.value)} is malformed (${FORMAT})`);
  const host = parseHost(line, parts[0]!, 'host');
  const quorum_port = parsePort(line, parts[1]!, 'quorum port');
  const election_port = parsePort(line, parts[2]!, 'election port');
  if (quorum_port === election_port) fail(line, `quorum port and election port are both ${quorum_port}: they must differ`);
  const role = parts.length === 4 ? parseRole(line, parts[3]!) : 'participant';
  const client = halves.length === 2 ? parseClientPart(line, halves[1]!) : null;
  return { sid, host, quorum_port, election_port, role, client_host: client?.host ?? null, client_port: client?.port ?? null };
}

/** The line as ZooKeeper's QuorumServer.toString writes it (used by generated configs). */
export function formatServerLine(m: EnsembleMember): string {
  const host = (h: string): string => (h.includes(':') ? `[${h}]` : h);
  const role = m.role === 'observer' ? ':observer' : '';
  const client = m.client_port === null ? '' : `;${m.client_host === null ? '' : `${host(m.client_host)}:`}${m.client_port}`;
  return `${host(m.host)}:${m.quorum_port}:${m.election_port}${role}${client}`;
}
