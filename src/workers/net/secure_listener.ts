// The secure client port (secureClientPort): TLS over TCP, ZooKeeper's Netty port. A connection
// reaches the net worker's ordinary path once its handshake is done, with the x509 id its client
// certificate gives (ZooKeeper's NettyServerCnxnFactory.CertificateVerifier and
// X509AuthenticationProvider):
// - ssl.clientAuth NEED: a client without a certificate the trust store verifies fails the
//   handshake;
// - WANT: a certificate is asked for; a client that sends none comes in without an x509 id, one
//   whose certificate does not verify is cut off;
// - NONE: none is asked for.
// A handshake that does not finish within the sessionless timeout ends the socket (Node's
// default would hold it for 120 s); a client that closes ends it at once.
//
// With client.portUnification the plain port hands over the sockets whose first byte opens a TLS
// handshake (adopt): the same handshake, rules and x509 ids as on the secure client port.

import tls from 'node:tls';
import type net from 'node:net';
import { x509Id, X509ParseError } from '../../auth/x509_subject.js';
import { secureContextOptions, type TlsConfig } from '../../config/tls_config.js';

export interface SecureConnectionHandlers {
  /** A new TCP socket, before its handshake: false refuses it (the handler has closed it). */
  accept(raw: net.Socket): boolean;
  /** A connection whose handshake finished and whose certificate (if any) verified. */
  connected(socket: net.Socket, x509_id: string | null): void;
  /** A socket ended for its handshake or its certificate (counted, not logged per connection). */
  failed(): void;
}

export interface SecureServer {
  readonly server: tls.Server;
  /** Runs the handshake on a socket another port accepted (and admitted), its first bytes read
   *  and put back with unshift: node:tls feeds a wrapped socket's buffered bytes to the
   *  handshake first, so the TLS runs on the socket's own handle. */
  adopt(raw: net.Socket): void;
  /** Ends every TCP socket of the port, those still in their handshake included (the net worker
   *  knows only the others), so that server.close(), which waits for all, returns. */
  destroyAll(): void;
}

export function createSecureServer(config: TlsConfig, handshake_timeout_ms: number, handlers: SecureConnectionHandlers): SecureServer {
  /** Every open TCP socket of the port (adopted ones included). */
  const sockets = new Set<net.Socket>();
  /** Sockets another port admitted: not counted against the bounds a second time. */
  const adopted = new WeakSet<net.Socket>();
  const ask = config.client_auth !== 'NONE';
  const server = tls.createServer(
    {
      ...secureContextOptions(config),
      requestCert: ask,
      rejectUnauthorized: config.client_auth === 'NEED',
      handshakeTimeout: handshake_timeout_ms,
      // Unlike the plain port (net_worker.ts, onPeerEnd): with half-open sockets allowed, a
      // client that closes during the handshake would hold its socket (and its place under
      // maxClientCnxns) until the handshake timeout. So a TLS client's FIN ends the connection.
      allowHalfOpen: false,
    },
    (socket) => {
      socket.setNoDelay(true);
      const id = ask ? clientId(socket) : null;
      if (id === undefined) {
        // As a failed handshake below: not logged per connection.
        handlers.failed();
        socket.destroy();
        return;
      }
      handlers.connected(socket, id);
    },
  );
  server.on('connection', (raw: net.Socket) => {
    if (!adopted.has(raw) && !handlers.accept(raw)) return;
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });
  // A failed handshake (no certificate under NEED, a wrong one, not TLS at all) ends only that
  // socket; Node destroys it. Nothing to log per connection: scanners would fill the log.
  server.on('tlsClientError', () => handlers.failed());
  return {
    server,
    adopt(raw) {
      adopted.add(raw);
      server.emit('connection', raw);
    },
    destroyAll() {
      for (const raw of sockets) raw.destroy();
    },
  };
}

/** The verified certificate's x509 id; null without a certificate; undefined for one that did
 *  not verify (or that cannot be read). */
function clientId(socket: tls.TLSSocket): string | null | undefined {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  if (!socket.authorized) return undefined;
  try {
    return x509Id(cert.raw);
  } catch (e) {
    if (e instanceof X509ParseError) return undefined;
    throw e;
  }
}
