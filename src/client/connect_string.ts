// Connect strings as ZooKeeper clients write them: "host1:port1,host2:port2[/chroot]".
// IPv6 hosts go in brackets ("[::1]:2181"); a host without a port gets 2181. The chroot, when
// present, is a valid znode path other than "/" and applies to every path the client sends or
// receives.

import { validatePath } from '../protocol/paths.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ConnectString {
  /** In the order written (the client shuffles them unless told not to). Never empty. */
  readonly hosts: readonly HostPort[];
  /** null = no chroot. Never "/" (a "/" chroot is the same as none). */
  readonly chroot: string | null;
}

export const DEFAULT_PORT = 2181;

export class ConnectStringError extends Error {
  override readonly name = 'ConnectStringError';
}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ConnectStringError(`bad port ${JSON.stringify(text)} in ${JSON.stringify(whole)}`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new ConnectStringError(`port ${port} out of range in ${JSON.stringify(whole)}`);
  return port;
}

function parseHost(entry: string, whole: string): HostPort {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) throw new ConnectStringError(`unclosed [ in ${JSON.stringify(whole)}`);
    const host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest === '') return { host, port: DEFAULT_PORT };
    if (!rest.startsWith(':')) throw new ConnectStringError(`expected :port after ] in ${JSON.stringify(whole)}`);
    return { host, port: parsePort(rest.slice(1), whole) };
  }
  const colon = entry.lastIndexOf(':');
  if (colon < 0) return { host: entry, port: DEFAULT_PORT };
  const host = entry.slice(0, colon);
  if (host === '' || host.includes(':')) throw new ConnectStringError(`bad host ${JSON.stringify(entry)} (IPv6 needs [brackets])`);
  return { host, port: parsePort(entry.slice(colon + 1), whole) };
}

function parseChroot(text: string, whole: string): string | null {
  if (text === '' || text === '/') return null;
  const reason = validatePath(text);
  if (reason !== null) throw new ConnectStringError(`bad chroot in ${JSON.stringify(whole)}: ${reason}`);
  return text;
}

export function parseConnectString(text: string): ConnectString {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const host_part = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const chroot = slash < 0 ? null : parseChroot(trimmed.slice(slash), text);
  const entries = host_part.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new ConnectStringError(`no host in connect string ${JSON.stringify(text)}`);
  return { hosts: entries.map((e) => parseHost(e, text)), chroot };
}

export function formatHost(h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}
