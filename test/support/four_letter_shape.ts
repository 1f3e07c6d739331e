// Four-letter word replies made comparable across servers (the interop differential tests): the
// values that differ between two servers by nature (numbers, ids, addresses, dates, the version)
// become placeholders, so what is left is each line's shape.

/**
 * A reply's lines with those values replaced, sorted and each kept once (the order of sessions
 * and watches is a hash order in ZooKeeper, and a four-letter connection of a moment before may
 * still be listed or not), but for srvr's, whose order clients rely on (ordered()). A dump's "N
 * expire at DATE" bucket lines are left out: which sessions share a bucket depends on when each
 * was touched.
 */
export function shape(text: string): string[] {
  const lines = text
    .split('\n')
    .filter((l) => !/ expire at /.test(l))
    .map((l) =>
      l
        .replace(/^Zookeeper version: .*$/, 'Zookeeper version: V')
        .replace(/^zk_version\t.*$/, 'zk_version\tV')
        .replace(/\/(\[[0-9a-f:.]+\]|[0-9.]+):\d+/g, 'ADDR')
        .replace(/0x[0-9a-f]+/g, 'HEX')
        .replace(/-?\d+(\.\d+)?/g, 'N'),
    );
  return ordered(text) ? lines : [...new Set(lines)].sort();
}

/**
 * srvr keeps its lines in ZooKeeper's order (clients parse them as one block: go-zookeeper's
 * FLWSrvr wants Mode then Node count); stat's client lines come in no set order.
 */
function ordered(text: string): boolean {
  return text.startsWith('Zookeeper version:') && !text.includes('\nClients:\n');
}

/** The keys of a reply's `key<sep>value` lines, sorted (envi, conf: '='; mntr: tab). */
export function keysOf(text: string, sep: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.includes(sep))
    .map((l) => l.slice(0, l.indexOf(sep)))
    .sort();
}
