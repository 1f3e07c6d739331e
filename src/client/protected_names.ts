// Protected node names (Curator's "protection"): a create whose outcome is unknown after a
// connection loss can find its node again because the name carries a random id:
// /parent/_c_<uuid>-<name>[sequence]. After reconnecting, the client lists the parent and looks
// for its id instead of creating a second node.

import { randomUUID } from 'node:crypto';

export const PROTECTED_PREFIX = '_c_';

export function newProtectionId(): string {
  return randomUUID();
}

/** "/a/b" + id -> "/a/_c_<id>-b". */
export function protectedPath(path: string, id: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}${PROTECTED_PREFIX}${id}-${path.slice(slash + 1)}`;
}

export function hasProtectionId(name: string, id: string): boolean {
  return name.startsWith(`${PROTECTED_PREFIX}${id}-`);
}

/** The name without its protection prefix (unchanged if it has none). */
export function unprotectedName(name: string): string {
  if (!name.startsWith(PROTECTED_PREFIX)) return name;
  const dash = name.indexOf('-', PROTECTED_PREFIX.length + 36);
  return dash < 0 ? name : name.slice(dash + 1);
}
