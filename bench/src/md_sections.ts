// Generated sections of BENCHMARKS.md live between markers, so a run replaces exactly its own
// section and leaves every other section (hand-written or another engineer's) untouched:
//   <!-- bench:ID:begin -->  ...generated...  <!-- bench:ID:end -->

export function beginMarker(id: string): string {
  return `<!-- bench:${id}:begin -->`;
}

export function endMarker(id: string): string {
  return `<!-- bench:${id}:end -->`;
}

/** Replaces the section `id` (markers kept), or appends it at the end when absent. */
export function replaceSection(doc: string, id: string, content: string): string {
  const begin = beginMarker(id);
  const end = endMarker(id);
  const block = `${begin}\n${content.trim()}\n${end}`;
  const at = doc.indexOf(begin);
  if (at < 0) return `${doc.trimEnd()}\n\n${block}\n`;
  const stop = doc.indexOf(end, at);
  if (stop < 0) throw new Error(`BENCHMARKS.md: ${begin} has no ${end}`);
  return doc.slice(0, at) + block + doc.slice(stop + end.length);
}
