// Differential test: the same scripted protocol session (differential_script.ts) runs against
// Apache ZooKeeper 3.8 (Debian) and against waitfree; the normalised transcripts must be equal,
// line for line, apart from the deliberate differences listed in KNOWN_DIFFERENCES.
//
// On a mismatch the failure shows a line diff (- ZooKeeper, + waitfree); both full transcripts are
// written to $TMPDIR/waitfree-differential/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../support/line_diff.js';
import { serverKindsUnderTest, startServer, type ServerKind } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { ScriptAborted, Transcript, type Line } from '../support/transcript.js';
import { SCRIPT_SERVER_OPTIONS, runScript } from './differential_script.js';

const EXISTS_ACL =
  'exists() checks READ since ZooKeeper 3.9.2 / 3.8.4 (ZOOKEEPER-4799); Debian ships 3.8.0, which returns the Stat without a READ check';

/**
 * Steps (by transcript label) where waitfree deliberately answers differently from the Debian
 * Apache ZooKeeper 3.8.0 we compare against. Each entry says why; keep this list short.
 */
const WATCH_MODES =
  'ZooKeeper 3.9 keeps one watch per mode on a path (ZOOKEEPER-4466): a persistent and a recursive watch of one session coexist; 3.8.0 replaces the mode';
const WATCHER_TYPES =
  'WatcherType Persistent (4) and PersistentRecursive (5) exist since ZooKeeper 3.9 (ZOOKEEPER-4472); 3.8.0 rejects them with MARSHALLINGERROR';

const KNOWN_DIFFERENCES: ReadonlyArray<{ label: string; why: string }> = [
  { label: 'addWatch: persistent + recursive on one path', why: WATCH_MODES },
  { label: 'probes: checkWatches persistent', why: WATCHER_TYPES },
  { label: 'probes: removeWatches persistent', why: WATCHER_TYPES },
  { label: 'probes: checkWatches recursive', why: WATCHER_TYPES },
  {
    label: 'auth: other exists',
    why: EXISTS_ACL,
  },
  {
    label: 'watches: exists watch on unreadable node',
    why: EXISTS_ACL,
  },
];

const DUMP_DIR = join(tmpdir(), 'waitfree-differential');

/** Each server's output (tail) after the script, for the failure message. */
const server_logs = new Map<ServerKind, string>();

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

async function runOn(kind: ServerKind): Promise<Transcript> {
  const server = await startServer(kind, SCRIPT_SERVER_OPTIONS);
  try {
    mkdirSync(DUMP_DIR, { recursive: true });
    const t = new Transcript(server.port, join(DUMP_DIR, `${kind}.live.txt`));
    try {
      await runScript(t);
    } catch (e) {
      if (!(e instanceof ScriptAborted)) throw e;
      t.note('aborted', e.message);
    }
    if (!server.alive()) t.note('server', `${kind} process exited during the script`);
    server_logs.set(kind, server.output());
    return t;
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw new Error(`script failed on ${kind}: ${msg}\n--- server output ---\n${server.output()}`);
  } finally {
    await server.stop();
  }
}

function dump(kind: ServerKind, t: Transcript): string {
  mkdirSync(DUMP_DIR, { recursive: true });
  const file = join(DUMP_DIR, `${kind}.txt`);
  writeFileSync(file, t.text() + '\n');
  return file;
}

/** A known difference may also differ in how many lines it spans: its run of lines becomes one. */
function comparable(lines: readonly Line[]): string[] {
  const known = new Map(KNOWN_DIFFERENCES.map((k) => [k.label, k.why]));
  const out: string[] = [];
  for (const l of lines) {
    const why = known.get(l.label);
    const text = `${l.label} | ${why === undefined ? l.text : `[known difference] ${why}`}`;
    if (why !== undefined && out[out.length - 1] === text) continue;
    out.push(text);
  }
  return out;
}

const kinds = serverKindsUnderTest();

describe.skipIf(zk_missing.length > 0)('differential: Apache ZooKeeper 3.8 vs waitfree', () => {
  let reference: Transcript | null = null;

  it('the script holds on Apache ZooKeeper (its expectations are the reference behaviour)', async () => {
    reference = await runOn('zookeeper');
    const file = dump('zookeeper', reference);
    expect(reference.expectation_failures, `transcript: ${file}`).toEqual([]);
    // The script must have reached its end.
    expect(reference.lines.at(-1)?.label).toMatch(/^end: /);
  });

  it.skipIf(!kinds.includes('waitfree'))('waitfree produces the same transcript', async () => {
    if (reference === null) throw new Error('no reference transcript (the Apache ZooKeeper run failed)');
    const ours = await runOn('waitfree');
    const file = dump('waitfree', ours);
    const diff = lineDiff(comparable(reference.lines), comparable(ours.lines));
    if (diff !== '') {
      const log = lastLines(server_logs.get('waitfree') ?? '', 40);
      throw new Error(
        `transcripts differ (- Apache ZooKeeper 3.8, + waitfree); full transcripts in ${DUMP_DIR}/{zookeeper,waitfree}.txt\n${diff}` +
          `\n--- waitfree output (last 40 lines) ---\n${log}`,
      );
    }
    expect(file).toContain('waitfree');
  });
});
