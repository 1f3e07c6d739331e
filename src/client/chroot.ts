// The chroot suffix of a connect string: every path the application gives is prefixed with it
// before it goes on the wire, and every path the server sends back (created names, events, sync,
// getEphemerals) has it stripped. Invariant: toServer(fromServer(p)) === p for every p inside the
// chroot; fromServer(chroot) === '/'.

export class Chroot {
  /** null = no chroot (identity). */
  constructor(readonly prefix: string | null) {}

  toServer(path: string): string {
    if (this.prefix === null) return path;
    return path === '/' ? this.prefix : this.prefix + path;
  }

  /** A server path outside the chroot is returned unchanged (only a misbehaving server sends one). */
  fromServer(path: string): string {
    const p = this.prefix;
    if (p === null) return path;
    if (path === p) return '/';
    if (path.startsWith(p) && path.charCodeAt(p.length) === 0x2f) return path.slice(p.length);
    return path;
  }
}
