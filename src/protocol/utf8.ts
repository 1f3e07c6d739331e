// UTF-8 decoding as Java's `new String(bytes, UTF_8)` does it, which is how ZooKeeper reads every
// string a client sends (jute ustrings, auth data): a leading U+FEFF is a character like any
// other. TextDecoder drops it by default (ignoreBOM: false), which turned a path or ACL id
// starting with it into a different string; every decoder of client-chosen text, on the wire, in
// the log, in snapshots and in the shared tree, is one of these two.

/** Malformed sequences become U+FFFD, as in Java. */
export const utf8Lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/** Malformed sequences throw: for bytes this replica wrote itself (snapshots, the shared tree). */
export const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
