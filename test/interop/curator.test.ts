// Apache Curator 5.4 (Debian's libcurator-framework-java and libcurator-recipes-java) against
// Apache ZooKeeper 3.8 and waitfree: the framework's builders (parents, sequential and protected
// names, create-or-set, multi), watches (one-shot, persistent recursive, their removal) and the
// recipes users build on (locks, semaphore, leader latch, caches, counters, barrier, queue,
// ephemeral nodes). curator/CuratorScenarios.java prints one JSON line per scenario; each must
// equal the expectation below, on both servers. Against 3-server ensembles of both: the leader
// is killed under two sessions holding a lock, a latch, an ephemeral node and a cache; and with
// reconfigEnabled, Curator's reconfig builder makes a follower an observer, removes it and takes
// it back as a voter while its EnsembleTracker follows the membership into the connect string.

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnsemble, startWaitfreeEnsemble, type Ensemble } from '../client/support/ensemble.js';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const CURATOR_JARS = ['/usr/share/java/curator-recipes.jar', '/usr/share/java/curator-framework.jar', '/usr/share/java/curator-client.jar', '/usr/share/java/guava.jar'] as const;
/** Curator's jars name the rest in their manifests (guava, zookeeper, slf4j-api). */
const CLASSPATH = ['/usr/share/java/curator-recipes.jar', '/usr/share/java/slf4j-simple.jar'].join(':');
const SCENARIOS_JAVA = fileURLToPath(new URL('./curator/CuratorScenarios.java', import.meta.url));
/** The whole program: compiling it (java's source launcher) and every scenario. */
const RUN_TIMEOUT_MS = 180_000;
const TICK_TIME_MS = 100;

/** The source launcher needs a JDK (jdk.compiler), not only the runtime the server needs. */
const JDK_FILES = ['/usr/lib/jvm/default-java/bin/javac'] as const;
const curator_missing = missingTools([...CURATOR_JARS, ...APACHE_ZK_FILES, ...JDK_FILES], true);
toolPresenceTest('Apache Curator 5.4 and a JDK (apt-get install -y libcurator-recipes-java default-jdk-headless)', curator_missing);

type Results = Record<string, unknown>;

const JAVA_ARGS = ['-Dorg.slf4j.simpleLogger.defaultLogLevel=error', '-cp', CLASSPATH, SCENARIOS_JAVA];

/** One scenario on request, with its arguments after its name; its result. */
function runOne(connect_string: string, args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('java', [...JAVA_ARGS, connect_string, ...args], { timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const result = parseResults(stdout)[args[0]!];
      if (error !== null || result === undefined) reject(new Error(`java: ${error?.message ?? 'no result'}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
      else resolve(result);
    });
  });
}

/** Runs every scenario against `connect_string`; scenario name -> its result. */
function runScenarios(connect_string: string): Promise<Results> {
  return new Promise((resolve, reject) => {
    execFile('java', [...JAVA_ARGS, connect_string], { timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`java failed: ${error.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
        return;
      }
      resolve(parseResults(stdout));
    });
  });
}

function parseResults(stdout: string): Results {
  const results: Results = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"scenario":')) continue;
    const { scenario, result } = JSON.parse(line) as { scenario: string; result: unknown };
    results[scenario] = result;
  }
  return results;
}

/** The failover scenario: kills the ensemble's leader (SIGKILL) when the program asks for it. */
function runFailover(ensemble: Ensemble): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...JAVA_ARGS, ensemble.connectString, 'failover'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-8000)));
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (killed || !stdout.includes('KILL_LEADER\n')) return;
      killed = true;
      ensemble
        .leader()
        .then((leader) => leader.kill())
        .then(
          () => child.stdin.end('killed\n'),
          (e: unknown) => {
            child.kill('SIGKILL');
            reject(e instanceof Error ? e : new Error(String(e)));
          },
        );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = parseResults(stdout).failover;
      if (code !== 0 || result === undefined) reject(new Error(`java exited ${code}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
      else resolve(result);
    });
  });
}

const EXPECTED: Results = {
  framework: {
    created: '/a/b/c',
    sequential: ['n-0000000000', 'n-0000000001', 'n-0000000002'],
    orSetData: 'y v1',
    bad_version: 'BADVERSION',
    exists_twice: 'NODEEXISTS',
    create2_stat: 'version 0 length 5 children 0 czxid==mzxid true',
    parent_cversion: 3,
    missing: 'null',
    protected: true,
    acl: ['world:anyone:31'],
    children: ['b'],
    delete_not_empty: 'NOTEMPTY',
    after_recursive_delete: 'null',
    guaranteed_delete_missing: 'NONODE',
    quietly_delete_missing: 'ok',
    container_stat: true,
  },
  transaction: {
    results: ['CREATE /t1 -> /t1 v-', 'CREATE /t1/s- -> /t1/s-0000000000 v-', 'SET_DATA /t1 -> null v1', 'CHECK /t1 -> null v-'],
    failing: 'BADVERSION',
    t2_after_failure: 'null',
    t1: 'b',
  },
  watches: {
    data_watch: 'NodeDataChanged /w',
    exists_watch: 'NodeCreated /w/new',
    child_watch: 'NodeChildrenChanged /w',
    persistent_recursive: ['NodeCreated /r/x', 'NodeCreated /r/x/y', 'NodeDataChanged /r/x', 'NodeDeleted /r/x/y'],
    remove_persistent: 'NOWATCHER',
    remove_data_watch: 'ok',
    removed_event: 'DataWatchRemoved /r/x',
    after_removal: 'NodeDataChanged /r/x / one-shot null',
    remove_again: 'NOWATCHER',
  },
  mutex: { a_acquires: true, a_reenters: true, b_while_held: false, b_after_one_release: false, b_after_release: true, participants: 1, lock_children_left: 0 },
  rwlock: { a_read: true, b_read_shared: true, b_write_while_read: false, b_write_after: true },
  semaphore: { a_leases: 2, b_while_full: 'null', b_after_return: true, participants: 2 },
  leader_latch: { a_leads: true, b_leads_meanwhile: false, leader_id_seen_by_b: 'a', participants: 2, b_leads_after_close: true },
  curator_cache: [true, ['NODE_CREATED /cc/pre=p', 'NODE_CREATED /cc=root'], 'NODE_CREATED /cc/a=1', 'NODE_CREATED /cc/a/b=2', 'NODE_CHANGED /cc/a=3', ['NODE_DELETED /cc/a', 'NODE_DELETED /cc/a/b'], 2],
  tree_cache: { initialized: true, x_children: ['1', '2'], y_data: '/tc/y', added: 'NODE_ADDED /tc/x/3', updated: 'NODE_UPDATED /tc/y', removed: 'NODE_REMOVED /tc/x/1', x_children_after: ['2', '3'] },
  counters: { increments_succeeded: 50, counter: 50, a_set: true, b_stale_set: false, b_sees: 5, b_fresh_set: true },
  double_barrier: ['entered true left true', 'entered true left true'],
  queue: ['one', 'two', 'three', 'null', 'late'],
  ephemerals: {
    created: true,
    deleted: 'NodeDeleted /members/me',
    recreated_ephemeral: true,
    closed_session_ephemeral: 'NodeDeleted /members/eph',
    members_left: ['other'],
    owner_states: ['CONNECTED'],
  },
  config: { config: '', zookeeper_children: ['config', 'quota'], connect_string_kept: true },
};

for (const kind of serverKindsUnderTest()) {
  describe.skipIf(curator_missing.length > 0)(`Curator on ${kind}`, () => {
    let server: RunningServer;
    let results: Results;

    beforeAll(async () => {
      server = await startServer(kind, { tickTime_ms: TICK_TIME_MS });
      results = await runScenarios(server.connectString);
    }, RUN_TIMEOUT_MS + 60_000);

    afterAll(async () => {
      await server?.stop();
    });

    for (const [scenario, expected] of Object.entries(EXPECTED)) {
      it(scenario, () => {
        expect(results[scenario]).toEqual(expected);
      });
    }
  });
}

const ENSEMBLE_KINDS = [
  { name: 'Apache ZooKeeper', start: startEnsemble },
  { name: 'waitfree', start: startWaitfreeEnsemble },
];

describe.skipIf(curator_missing.length > 0).each(ENSEMBLE_KINDS)('Curator on a 3-server $name ensemble whose leader is killed', ({ start }) => {
  let ensemble: Ensemble;

  beforeAll(async () => {
    ensemble = await start();
  });

  afterAll(async () => {
    await ensemble?.stopAll();
  });

  it('both sessions reconnect (SUSPENDED, RECONNECTED, never LOST) with their lock, latch, ephemeral node and cache', async () => {
    expect(await runFailover(ensemble)).toEqual({
      a_locks: true,
      cache_initialized: true,
      a_leads: true,
      a_reconnected: true,
      b_reconnected: true,
      a_same_session: true,
      a_still_locks: true,
      b_locks_meanwhile: false,
      ephemeral_kept: true,
      one_leader: true,
      latch_participants: 2,
      cache_after: 'created /cc/after',
      b_locks_after_release: true,
      a_states: ['CONNECTED', 'SUSPENDED', 'RECONNECTED'],
      b_states: ['CONNECTED', 'SUSPENDED', 'RECONNECTED'],
      connect_string_hosts_kept: true,
    });
  }, RUN_TIMEOUT_MS + 30_000);
});

describe.skipIf(curator_missing.length > 0).each(ENSEMBLE_KINDS)('Curator reconfigures a 3-server $name ensemble', ({ start }) => {
  let ensemble: Ensemble;

  beforeAll(async () => {
    ensemble = await start({ reconfig: true });
  });

  afterAll(async () => {
    await ensemble?.stopAll();
  });

  it('a follower becomes an observer, leaves and comes back a voter; the EnsembleTracker follows each change', async () => {
    const moved = (await ensemble.followers())[0]!;
    const others = ensemble.members.filter((m) => m.id !== moved.id).map((m) => m.connectString).join(',');
    expect(await runOne(others, ['reconfig', String(moved.id), moved.connectString])).toEqual({
      line_found: true,
      demoted: 'observer, voters 2',
      removed: 'absent, voters 2',
      tracker_dropped_it: true,
      back: 'participant, voters 3',
      tracker_took_it_back: true,
      write_after: true,
    });
  }, RUN_TIMEOUT_MS + 30_000);
});
