// ZooKeeper connect strings: "host:port[,host:port...]". A chroot suffix ("/app") is refused:
// the load generator names its own root path instead.

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** Connect over TLS (a secure client port); file paths, so that endpoints cross to threads. */
  readonly tls?: EndpointTls;
}

export interface EndpointTls {
  /** PEM CA certificates that verify the server. */
  readonly ca_file: string;
  /** A PEM file with the client's private key and certificate; null: none. */
  readonly cert_file: string | null;
}

export function parseConnectString(s: string): Endpoint[] {
  const text = s.trim();
  if (text === '') throw new Error('empty connect string');
  if (text.includes('/')) throw new Error(`connect string ${JSON.stringify(s)}: chroot is not supported by the load generator`);
  return text.split(',').map((part) => parseEndpoint(part.trim(), s));
}

function parseEndpoint(part: string, whole: string): Endpoint {
  // [v6]:port, host:port, or host (port 2181, as ZooKeeper clients default).
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(part);
  if (m === null) throw new Error(`connect string ${JSON.stringify(whole)}: bad endpoint ${JSON.stringify(part)}`);
  const host = m[1] ?? m[2]!;
  const port = m[3] === undefined ? 2181 : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`connect string ${JSON.stringify(whole)}: bad port in ${part}`);
  return { host, port };
}

export function formatConnectString(endpoints: readonly Endpoint[]): string {
  return endpoints.map((e) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`)).join(',');
}
