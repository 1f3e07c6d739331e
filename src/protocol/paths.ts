// znode path rules, as ZooKeeper's PathUtils.validatePath applies them (same checks, same order,
// same messages, so a client sees the reason it would see from Apache ZooKeeper). Positions are
// UTF-16 indexes, which is what Java reports too.

const SLASH = 0x2f;
const DOT = 0x2e;

/** U+0001-U+001F, U+007F-U+009F, U+D800-U+F8FF (surrogates, private use), U+FFF0-U+FFFF. */
function isForbiddenChar(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/** True when the dot at `i` ends a segment that is exactly "." or "..". */
function endsRelativeSegment(path: string, i: number): boolean {
  const at_segment_end = i + 1 === path.length || path.charCodeAt(i + 1) === SLASH;
  if (!at_segment_end) return false;
  const prev = path.charCodeAt(i - 1);
  if (prev === SLASH) return true;
  return prev === DOT && path.charCodeAt(i - 2) === SLASH;
}

/** The first rule a path (starting with '/', longer than 1) breaks after its first char. */
function invalidReason(path: string): string | null {
  let last = SLASH;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === SLASH && last === SLASH) return `empty node name specified @${i}`;
    if (c === DOT && endsRelativeSegment(path, i)) return `relative paths not allowed @${i}`;
    if (isForbiddenChar(c)) return `invalid character @${i}`;
    last = c;
  }
  return null;
}

/**
 * Returns why `path` is not a valid znode path, or null when it is. For a sequential create the
 * server appends a 10-digit suffix, so the path is checked as if it ended in a digit (it may end
 * with '/', naming children of the parent by number alone).
 */
export function validatePath(path: string, isSequential = false): string | null {
  const checked = isSequential ? `${path}1` : path;
  if (checked.length === 0) return 'Path length must be > 0';
  if (checked.charCodeAt(0) !== SLASH) return 'Path must start with / character';
  if (checked.length === 1) return null;
  if (checked.charCodeAt(checked.length - 1) === SLASH) return 'Path must not end with / character';
  const reason = invalidReason(checked);
  return reason === null ? null : `Invalid path string "${checked}" caused by ${reason}`;
}

/** Parent of a valid non-root path: parentPath('/a/b') = '/a', parentPath('/a') = '/'. */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash < 0 || path.length < 2) throw new Error(`path ${JSON.stringify(path)} has no parent`);
  return slash === 0 ? '/' : path.slice(0, slash);
}

/** Last segment of a valid path: baseName('/a/b') = 'b', baseName('/') = ''. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
