// TLS on the links between ensemble members, as ZooKeeper's quorum TLS (sslQuorum, the
// ssl.quorum.* keys, portUnification; its QuorumX509Util and ZKTrustManager):
// - the member that dials verifies the certificate of the one it dials against the trust store,
//   and, with hostname verification (the default), that it names the host it dialed (the host of
//   the server.N line: an IP address or a DNS name); it always presents its own certificate;
// - the member that accepts asks for the dialer's certificate (ssl.quorum.clientAuth: NEED, the
//   default, refuses a link without a verified one; WANT lets one without any certificate in;
//   NONE does not ask) and, with hostname verification, checks that it names the dialer's IP
//   address or a name that address resolves back to (ZooKeeper's fallback to the reverse lookup);
// - portUnification: the quorum port takes both kinds, told apart by the first byte (a TLS
//   handshake record starts with 0x16, a hello with its magic "WFZQ").
// The hello and every Zab frame then travel inside TLS unchanged (peer_transport.ts).

import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { secureContextOptions, type ClientAuth, type QuorumTlsConfig } from '../config/tls_config.js';

/** What the transport needs: a context built once, and the rules. */
export interface PeerTls {
  readonly context_options: tls.SecureContextOptions;
  readonly context: tls.SecureContext;
  readonly client_auth: ClientAuth;
  /** This member dials with TLS (sslQuorum). */
  readonly dial_tls: boolean;
  /** The quorum port takes TLS links (sslQuorum or portUnification). */
  readonly accept_tls: boolean;
  /** The quorum port takes plain links (not sslQuorum, or portUnification). */
  readonly accept_plain: boolean;
  readonly hostname_verification: boolean;
}

export function peerTlsFrom(config: QuorumTlsConfig): PeerTls {
  const context_options = secureContextOptions(config);
  return {
    context_options,
    context: tls.createSecureContext(context_options),
    client_auth: config.client_auth,
    dial_tls: config.dial_tls,
    accept_tls: config.dial_tls || config.port_unification,
    accept_plain: !config.dial_tls || config.port_unification,
    hostname_verification: config.hostname_verification,
  };
}

/** tls.connect's options for dialing `host:port`. */
export function dialOptions(t: PeerTls, host: string, port: number): tls.ConnectionOptions {
  return {
    host,
    port,
    secureContext: t.context,
    // SNI carries a DNS name, never an address.
    servername: net.isIP(host) === 0 ? host : undefined,
    rejectUnauthorized: true,
    checkServerIdentity: t.hostname_verification ? tls.checkServerIdentity : () => undefined,
  };
}

export type AcceptResult = { readonly ok: true; readonly socket: tls.TLSSocket } | { readonly ok: false; readonly reason: string };

/**
 * Runs the accepting side of a handshake on `socket`, an accepted one (its first bytes put
 * back with unshift when they were read to tell TLS from plain). Calls `done` at most once;
 * not at all if the socket closes first (the caller's close handler owns that case).
 *
 * One tls.Server per link, never listening: it is how node:tls verifies an accepting socket's
 * peer (a bare server-side TLSSocket does not), and the one link it serves is the one its events
 * are about (a shared server's events do not say which accepted socket they are for). Its context
 * is built from the stores each time, ~3-6 ms of this thread for a PKCS#12 store; links are
 * few (one per pair of members, again after a reconnect) and accepted ones are bounded by
 * PENDING_HELLOS_MAX and the handshake timeout.
 */
export function acceptTls(socket: net.Socket, remote_ip: string, t: PeerTls, handshake_timeout_ms: number, done: (r: AcceptResult) => void): void {
  const server = new tls.Server({
    ...t.context_options,
    requestCert: t.client_auth !== 'NONE',
    // Checked below, to say why a link was refused.
    rejectUnauthorized: false,
    handshakeTimeout: handshake_timeout_ms,
  });
  let settled = false;
  const settle = (r: AcceptResult): void => {
    if (settled) return;
    settled = true;
    done(r);
  };
  server.once('tlsClientError', (e: Error) => {
    // OpenSSL's message is a multi-line dump; its reason is the readable part.
    const why = (e as Error & { reason?: string }).reason ?? e.message.split('\n')[0]!;
    settle({ ok: false, reason: `TLS handshake failed: ${why}${notTls(why)}` });
  });
  server.once('secureConnection', (socket: tls.TLSSocket) => {
    const problem = certificateProblem(socket, t);
    if (problem !== null) return settle({ ok: false, reason: problem });
    if (!t.hostname_verification || !presented(socket)) return settle({ ok: true, socket });
    void namesAddress(socket.getPeerCertificate(), remote_ip).then((ok) =>
      settle(ok ? { ok: true, socket } : { ok: false, reason: `its certificate names neither ${remote_ip} nor a name that address resolves to (ssl.quorum.hostnameVerification)` }),
    );
  });
  server.emit('connection', socket);
}

/** The remote address as a certificate's IP SAN spells it (no IPv4-mapped prefix). */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '?';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function presented(socket: tls.TLSSocket): boolean {
  return socket.getPeerX509Certificate() !== undefined;
}

/** Why the dialer's certificate does not let it in, or null. */
function certificateProblem(socket: tls.TLSSocket, t: PeerTls): string | null {
  if (t.client_auth === 'NONE' || socket.authorized) return null;
  if (!presented(socket)) return t.client_auth === 'NEED' ? 'no certificate (ssl.quorum.clientAuth=NEED)' : null;
  return `its certificate does not verify: ${String(socket.authorizationError)}`;
}

/** The certificate names `ip` (an IP SAN), or a name `ip` resolves back to. */
async function namesAddress(cert: tls.PeerCertificate, ip: string): Promise<boolean> {
  if (tls.checkServerIdentity(ip, cert) === undefined) return true;
  let names: string[];
  try {
    names = await dns.reverse(ip);
  } catch {
    return false;
  }
  return names.some((name) => tls.checkServerIdentity(name, cert) === undefined);
}

/** A hint when the bytes were not TLS at all: a member with sslQuorum=false dialed a TLS-only port. */
function notTls(why: string): string {
  return /wrong version number|http request|unknown protocol|packet length too long/i.test(why)
    ? ' (not TLS: is sslQuorum=false on that member? portUnification=true here takes both)'
    : '';
}
