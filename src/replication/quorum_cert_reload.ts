// sslQuorumReloadCertFiles: once the quorum's key store, trust store or key store password file
// changes on disk, they are read and checked again as at start (tls_config.ts) and the peer
// transport uses them for the links it makes from then on; links up keep theirs (as ZooKeeper,
// whose reloaded SSL context serves new sockets). A store that does not load (written halfway,
// a wrong password) is logged with its key and the previous certificates stay.

import type { ServerConfig } from '../config/server_config.js';
import { resolveQuorumTls } from '../config/tls_config.js';
import { peerTlsFrom, type PeerTls } from './peer_tls.js';
import { watchStoreFiles, type StoreWatch } from './store_watch.js';

/** Quiet time after the last change to a store before it is read again (a store is written in
 *  pieces, or as a new file renamed over the old one). */
const STORE_SETTLE_MS = 200;

export interface TlsTarget {
  setTls(next: PeerTls): void;
}

export function reloadQuorumCertsOnChange(config: ServerConfig, target: TlsTarget, log: (line: string) => void): StoreWatch {
  const paths = [config.ssl_quorum_key_store_location, config.ssl_quorum_trust_store_location, config.ssl_quorum_key_store_password_path].filter((p) => p !== '');
  return watchStoreFiles(paths, STORE_SETTLE_MS, () => {
    try {
      const next = resolveQuorumTls(config);
      if (next === null) return;
      target.setTls(peerTlsFrom(next));
      log(`quorum TLS: read ${paths.join(', ')} again (sslQuorumReloadCertFiles); links made from now on use them`);
    } catch (e) {
      // Whatever the files hold (a store written halfway included) must not stop the replica:
      // the links go on with what they had.
      const why = e instanceof Error ? e.message : String(e);
      log(`quorum TLS: reading the stores again failed (${why}); links keep the previous certificates`);
    }
  });
}
