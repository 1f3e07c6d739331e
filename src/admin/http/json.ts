// JSON text for admin answers. Like ZooKeeper's Jackson output, 64-bit values (session ids,
// zxids) are written as JSON numbers with every digit; JSON.stringify cannot write a bigint, and
// a double would round a session id. Indented by two spaces, as ZooKeeper's INDENT_OUTPUT.

export type JsonValue = null | boolean | number | bigint | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export function toJson(value: JsonValue, indent = ''): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    if (items.length === 0) return '[ ]';
    return `[ ${items.map((v) => toJson(v, inner)).join(', ')} ]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: JsonValue });
  if (entries.length === 0) return '{ }';
  const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)} : ${toJson(v, inner)}`).join(',\n');
  return `{\n${body}\n${indent}}`;
}
