// How a port that takes TLS and plain connections alike tells them apart (client.portUnification
// on the client port, portUnification on the quorum port): by the first byte a connection sends.

/**
 * The first byte of a TLS record that carries a handshake message (a ClientHello opens every TLS
 * connection). No plain connection starts with it: a ZooKeeper frame starts with the high byte of
 * its length (0x16 would mean 369 MB and more, far above any jute.maxbuffer), a four-letter word
 * with a lowercase letter, and a quorum link's hello with "WFZQ".
 */
export const TLS_HANDSHAKE_RECORD = 0x16;
