// Runs a client library's own test suite against each server kind, for the interop tests that
// compare outcomes test by test (go_zookeeper.test.ts, kazoo_suite.test.ts).
//
// The kinds' whole runs go side by side. A timing-bound test can miss once on a loaded 2-core
// host: a failure the caller did not expect runs again alone, once, and that second outcome
// counts. Both runs' output is kept, so a flake and its rerun show in the report.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One run: test id -> outcome (the suite's own words), and the tail of its output. */
export interface SuiteRun<O extends string> {
  outcomes: Map<string, O>;
  output: string;
}

export interface ForeignSuite<K extends string, O extends string> {
  /** Runs the whole suite, or only the test `id`, against `kind`. */
  run(kind: K, id?: string): Promise<SuiteRun<O>>;
  /** The outcome that means failed ('FAIL', 'failed'). */
  readonly failed: O;
  /** Failures not to run again: expected on that kind. */
  expectedFailure(kind: K, id: string): boolean;
}

/**
 * Runs the whole suite on every kind at once (each kind's servers on their own ports: the suites
 * mostly wait on timeouts, so two runs side by side take little longer than one), then runs each
 * failure the caller did not expect again alone, one at a time; kind -> its settled run.
 */
export async function runOnEachKind<K extends string, O extends string>(kinds: readonly K[], suite: ForeignSuite<K, O>): Promise<Map<K, SuiteRun<O>>> {
  const whole = await Promise.all(kinds.map((kind) => suite.run(kind)));
  const runs = new Map<K, SuiteRun<O>>();
  for (const [i, kind] of kinds.entries()) {
    const r = whole[i]!;
    for (const [id, outcome] of r.outcomes) {
      if (outcome !== suite.failed || suite.expectedFailure(kind, id)) continue;
      const again = await suite.run(kind, id);
      const second = again.outcomes.get(id) ?? suite.failed;
      r.outcomes.set(id, second);
      r.output += `\n--- ${id} failed, run again alone: ${second} ---\n${again.output}`;
    }
    runs.set(kind, r);
  }
  return runs;
}

/** A temp dir for one suite's files, and the file its stand-in servers record their PIDs in. */
export class SuiteDir {
  readonly root: string;
  /** Each stand-in appends its PID here before it execs the server. */
  readonly pid_file: string;

  constructor(prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.pid_file = join(this.root, 'pids');
  }

  /** Kills the servers the suite left running, then removes the dir. */
  dispose(): void {
    killLeftoverServers(this.pid_file);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * The stand-in servers a suite started and left running (a test that fails or restarts a member
 * may not stop it): kills those still alive, by PID, if their command line is still a server's
 * (not a reused PID).
 */
function killLeftoverServers(pid_file: string): number {
  let killed = 0;
  let text = '';
  try {
    text = readFileSync(pid_file, 'utf8');
  } catch {
    return 0;
  }
  for (const line of text.split('\n')) {
    const pid = Number(line);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited
    }
    if (!/waitfree\.js|QuorumPeerMain/.test(cmdline)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}
