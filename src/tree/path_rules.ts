// The path arithmetic the tree needs, on top of the protocol's path rules (protocol/paths.ts).

import { baseName, validatePath } from '../protocol/paths.js';

/**
 * Paths ZooKeeper creates itself and refuses to delete (DataTree.isSpecialPath).
 * They can still be written to where their ACL allows (e.g. setData on /zookeeper).
 */
const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export function isSpecialPath(path: string): boolean {
  return SPECIAL_PATHS.has(path);
}

/** True when `path` is a valid znode path (protocol/paths.ts: PathUtils.validatePath's rules). */
export function isValidPath(path: string): boolean {
  return validatePath(path) === null;
}

/**
 * Parent of an absolute path: '/a' -> '/', '/a/b' -> '/a', and '/' -> '/' (prep relies on the
 * root being its own parent: creating '/' then fails NODEEXISTS, as in ZooKeeper).
 */
export function parentPath(path: string): string {
  const last_slash = path.lastIndexOf('/');
  if (last_slash < 0) throw new Error(`parentPath: no '/' in ${JSON.stringify(path)}`);
  return last_slash === 0 ? '/' : path.slice(0, last_slash);
}

/** Last segment of an absolute path ('' for the root). */
export const childName = baseName;

/** `parent` + '/' + `name`, without doubling the root's slash. */
export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/**
 * The sequential suffix: Java's String.format("%010d", n). Zero padding goes after the sign and
 * the width counts it, so -1 is "-000000001"; values needing more digits are not truncated.
 */
export function sequenceSuffix(n: number): string {
  if (n >= 0) return String(n).padStart(10, '0');
  return `-${String(-n).padStart(9, '0')}`;
}

/** Java's String.trim(): strips code units <= U+0020 at both ends (getEphemerals' prefix). */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}
