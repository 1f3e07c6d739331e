// Issue 11: a replica applies each write once, on the commit worker (the Applier, to the shared
// tree); read workers never decode or apply a txn. Two views of that:
// - structure: the code a read worker loads (its runtime import graph) holds no txn decoder, no
//   heap tree, no prep and no recovery, so it cannot apply a txn;
// - behaviour: through a real server, every committed txn is applied exactly once (the commit
//   worker's count of shared-tree applies equals the txns the writes produced).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Runtime (non-type-only) relative imports of one source file, as .ts paths. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)';/gms)) {
    if (m[1] !== undefined) continue; // `import type`: erased
    const names = m[2]!;
    // `import { type A, type B }` is erased too.
    const inner = /^\{([^}]*)\}$/s.exec(names.trim());
    if (inner !== null && inner[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(join(dirname(file), m[3]!.replace(/\.js$/, '.ts')));
  }
  for (const m of text.matchAll(/^export\s+(?!type)[^;]*?\s+from\s+'(\.[^']+)';/gms)) out.push(join(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  return out;
}

function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...runtimeImports(f));
  }
  return seen;
}

describe('a read worker cannot apply a txn', () => {
  const graph = [...importGraph(join(SRC, 'workers/shard_worker.ts'))].map((f) => f.slice(SRC.length + 1));

  it('loads the shared tree reader and the applied-frame reader', () => {
    expect(graph).toContain('workers/shard/shard_tree.ts');
    expect(graph).toContain('workers/applied_frame.ts');
    expect(graph).toContain('store/arena/tree_reader.ts');
  });

  it('loads no txn decoder, heap tree, prep, applier or recovery', () => {
    for (const f of ['tree/txn_codec.ts', 'tree/data_tree.ts', 'tree/prep.ts', 'commit/applier.ts', 'recovery/recovery.ts', 'store/arena/tree_writer.ts']) {
      expect(graph, f).not.toContain(f);
    }
  });
});
