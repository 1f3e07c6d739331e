// Reading the transcripts of zkCli.sh and cli_mt (test/support/shell_driver.ts) while the server
// side fails over: connection-state lines arrive asynchronously, between or inside a command's
// output, so a test waits for them in the transcript and strips them before comparing outputs.

import type { ShellSession } from './shell_driver.js';

const POLL_INTERVAL_MS = 50;

/**
 * Waits until `re` matches the shell's transcript at or after index `from`; returns the index just
 * past the match. Throws after `timeout_ms` with the transcript's tail.
 */
export async function waitForText(sh: ShellSession, re: RegExp, from: number, timeout_ms: number): Promise<number> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const text = sh.transcript();
    const m = re.exec(text.slice(from));
    if (m !== null) return from + m.index + m[0].length;
    if (Date.now() >= deadline) throw new Error(`no ${re} in the transcript after index ${from} within ${timeout_ms} ms; tail:\n${text.slice(-4_000)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** zkCli.sh's connection-state events (`WATCHER::` blocks), as `state type path` strings. */
export function zkCliEvents(text: string): string[] {
  return [...text.matchAll(/WatchedEvent state:(\w+) type:(\w+) path:(\S+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/** A zkCli.sh command's output without the `WATCHER::` blocks printed meanwhile. */
export function withoutZkCliEvents(text: string): string {
  return text.replace(/\n?WATCHER::\n\nWatchedEvent [^\n]*\n/g, '');
}

/** A cli_mt command's output without the C library's log lines, session events and timings. */
export function withoutCliMtNoise(text: string): string {
  return text
    .replace(/^\d{4}-\d\d-\d\d [^\n]*:ZOO_(ERROR|WARN|INFO|DEBUG)@[^\n]*\n/gm, '')
    .replace(/^Watcher SESSION_EVENT state = \w+\n/gm, '')
    .replace(/^time = \d+ msec\n/gm, '');
}

/** Every session id cli_mt announced (`Got a new session id: 0x...`), in order, as hex. */
export function cliMtSessionIds(text: string): string[] {
  return [...text.matchAll(/Got a new session id: 0x([0-9a-f]+)/g)].map((m) => m[1]!);
}
