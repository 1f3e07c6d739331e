// go-zookeeper's own test suite (Debian's golang-github-samuel-go-zookeeper-dev, the 2018
// snapshot of github.com/samuel/go-zookeeper) against waitfree and Apache ZooKeeper 3.8: every
// test must end the same way on both.
//
// The suite starts its servers itself (zk/server_java.go: `java -jar <fat jar> server zoo.cfg`,
// one process per member, clusters of 1 and 3 on 127.0.0.1, members killed and restarted) and
// waits for them with FLWSrvr (the srvr four-letter word). So the test puts a `java` of its own
// first on PATH: for `-jar ... server CFG` it starts waitfree (or ZooKeeper's QuorumPeerMain)
// on that zoo.cfg; anything else goes to the real java.
//
// The test runs a patched copy of the package, with two changes. The snapshot's FLWSrvr predates
// ZooKeeper 3.7's srvr text ("built on yyyy-MM-dd", a decimal average latency) and fails on every
// ZooKeeper since: it gets the pattern of the maintained fork (github.com/go-zookeeper/zk
// flw.go), whose version part also accepts Debian's build string ("3.8.0-${mvngit.commit.id}").
// And its test clusters take their ports at random from one range (10000-15999): the two kinds
// run side by side, and once both runs' first cluster took the same ports, so one kind's client
// talked to the other kind's servers. Each kind now draws from a range of its own
// (GOZK_PORT_BASE). The test binary is built once and run for each kind.
//
// One test fails on both servers: TestAuth expects getACL without READ or ADMIN permission to
// succeed (ZooKeeper refuses it since 3.4.14 / 3.5.5, CVE-2019-0201). TestEncodeShortBuffer and
// TestDecodeShortBuffer are not run: they test the client's own codec, no server, and panic in
// it, which aborts the test binary and loses the outcomes of the tests running in parallel with
// them (which ones varies from run to run).

import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnEachKind, SuiteDir, type SuiteRun } from '../support/foreign_suite.js';
import { REPO_ROOT, SLF4J_SIMPLE_JAR, ZK_JAR } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const GO = '/usr/bin/go';
const PACKAGE = 'github.com/samuel/go-zookeeper';
const PACKAGE_SRC = `/usr/share/gocode/src/${PACKAGE}`;
const REAL_JAVA = '/usr/bin/java';
/** One whole run of the suite and its build (about 110 s here for both kinds side by side). */
const SUITE_TIMEOUT_MS = 600_000;

/** Fails on any server since ZooKeeper 3.5.5 (see above). */
const FAILING_ON_BOTH = ['TestAuth'];
/** Not run (see above). */
const NOT_RUN = new Set(['TestEncodeShortBuffer', 'TestDecodeShortBuffer']);

const go_missing = missingTools([GO, `${PACKAGE_SRC}/zk/zk_test.go`, `${PACKAGE_SRC}/zk/flw.go`]);
const zk_missing = missingTools([...APACHE_ZK_FILES, REAL_JAVA], true);
toolPresenceTest("go-zookeeper's test suite (apt-get install -y golang-go golang-github-samuel-go-zookeeper-dev)", go_missing);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

type Kind = 'waitfree' | 'zookeeper';
type Outcome = 'PASS' | 'FAIL' | 'SKIP';

/** The maintained fork's srvr pattern, replacing the snapshot's (each must be found once). */
const FLW_PATCHES: ReadonlyArray<readonly [string, string]> = [
  [
    'zrVer   = `^Zookeeper version: ([A-Za-z0-9\\.\\-]+), built on (\\d\\d/\\d\\d/\\d\\d\\d\\d \\d\\d:\\d\\d [A-Za-z0-9:\\+\\-]+)`',
    'zrVer   = `^Zookeeper version: ([^,]+), built on ((?:\\d\\d/\\d\\d/\\d\\d\\d\\d|\\d\\d\\d\\d-\\d\\d-\\d\\d) \\d\\d:\\d\\d [A-Za-z0-9:\\+\\-]+)`',
  ],
  ['zrLat   = `^Latency min/avg/max: (\\d+)/(\\d+)/(\\d+)`', 'zrLat   = `^Latency min/avg/max: (\\d+)/([0-9.]+)/(\\d+)`'],
  [
    'buildTime, err := time.Parse("01/02/2006 15:04 MST", match[1])\n',
    'buildTime, err := time.Parse("01/02/2006 15:04 MST", match[1])\n\t\tif err != nil {\n\t\t\tbuildTime, err = time.Parse("2006-01-02 15:04 MST", match[1])\n\t\t}\n',
  ],
];

/** Each kind's test clusters take their ports from [base, base + 3000) (3 ports per member). */
const PORT_BASE: Record<Kind, number> = { zookeeper: 10000, waitfree: 13000 };

/** The test clusters' first port from GOZK_PORT_BASE, one range per kind (see above). */
const PORT_PATCHES: ReadonlyArray<readonly [string, string]> = [
  [
    'startPort := int(rand.Int31n(6000) + 10000)',
    'portBase := 10000\n\tfmt.Sscan(os.Getenv("GOZK_PORT_BASE"), &portBase)\n\tstartPort := int(rand.Int31n(3000)) + portBase',
  ],
];

/** Applies each [from, to] of `patches` to `file`; each `from` must be there exactly once. */
function patchFile(file: string, patches: ReadonlyArray<readonly [string, string]>): void {
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of patches) {
    if (text.split(from).length !== 2) throw new Error(`go-zookeeper's ${file} changed: ${JSON.stringify(from)} is not there once`);
    text = text.replace(from, to);
  }
  writeFileSync(file, text);
}

/** A GOPATH holding the patched copy of the package, and a bin dir with the `java` stand-in. */
function prepare(root: string): Prepared {
  const gopath = join(root, 'gopath');
  const dst = join(gopath, 'src', PACKAGE);
  mkdirSync(join(dst, '..'), { recursive: true });
  cpSync(PACKAGE_SRC, dst, { recursive: true });
  patchFile(join(dst, 'zk', 'flw.go'), FLW_PATCHES);
  patchFile(join(dst, 'zk', 'server_help.go'), PORT_PATCHES);
  // The suite looks for a fat jar under $ZOOKEEPER_PATH before it runs `java -jar`.
  mkdirSync(join(root, 'zk', 'contrib', 'fatjar'), { recursive: true });
  writeFileSync(join(root, 'zk', 'contrib', 'fatjar', 'zookeeper-stand-in-fatjar.jar'), '');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const java = join(bin, 'java');
  writeFileSync(
    java,
    [
      '#!/usr/bin/env bash',
      '# go-zookeeper starts a member as `java -jar JAR server CFG`: serve CFG with the server under test.',
      'if [ "$1" = "-jar" ] && [ "$3" = "server" ]; then',
      '  echo $$ >> "$STAND_IN_PIDS"',
      '  if [ "$GOZK_SERVER" = "zookeeper" ]; then',
      `    exec ${REAL_JAVA} -Dzookeeper.4lw.commands.whitelist='*' -cp ${ZK_JAR}:${SLF4J_SIMPLE_JAR} org.apache.zookeeper.server.quorum.QuorumPeerMain "$4"`,
      '  fi',
      `  exec ${process.execPath} ${join(REPO_ROOT, 'bin', 'waitfree.js')} server --config "$4"`,
      'fi',
      `exec ${REAL_JAVA} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(java, 0o755);
  return { gopath, bin, tests: testNames(join(dst, 'zk')) };
}

/** The package's test functions, but NOT_RUN (Go 1.19's `go test` has no -skip). */
function testNames(dir: string): string[] {
  const names: string[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('_test.go')) continue;
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/^func (Test\w+)\(t \*testing\.T\)/gm)) {
      if (!NOT_RUN.has(m[1]!)) names.push(m[1]!);
    }
  }
  return names.sort();
}

interface Prepared {
  readonly gopath: string;
  readonly bin: string;
  readonly tests: readonly string[];
}

/** The environment of `go` and of the test binary (GOPATH mode, as the 2018 snapshot predates modules). */
function goEnv(dir: SuiteDir, env: Prepared, kind?: Kind): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${env.bin}:${process.env.PATH ?? ''}`,
    GOPATH: env.gopath,
    GO111MODULE: 'off',
    GOCACHE: join(dir.root, 'gocache'),
    GOFLAGS: '',
    ZOOKEEPER_PATH: join(dir.root, 'zk'),
    ...(kind === undefined ? {} : { GOZK_SERVER: kind, GOZK_PORT_BASE: String(PORT_BASE[kind]) }),
    STAND_IN_PIDS: dir.pid_file,
  };
}

/** Compiles the package's tests once (`go test -c`): the binary both kinds run. */
function buildTests(dir: SuiteDir, env: Prepared): Promise<string> {
  const binary = join(dir.root, 'zk.test');
  return new Promise((resolve, reject) => {
    execFile(GO, ['test', '-c', '-o', binary, `${PACKAGE}/zk`], { env: goEnv(dir, env), timeout: SUITE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`go test -c failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(binary);
    });
  });
}

/** Runs the suite (or the tests `only` names) against `kind`; test name -> outcome. */
function runSuite(dir: SuiteDir, env: Prepared, binary: string, kind: Kind, only?: string): Promise<SuiteRun<Outcome>> {
  const run = only ?? env.tests.join('|');
  const args = ['-test.count=1', '-test.v', '-test.timeout', `${SUITE_TIMEOUT_MS / 1000}s`, '-test.run', `^(${run})$`];
  // `go test` runs a package's test binary in the package's dir.
  const cwd = join(env.gopath, 'src', PACKAGE, 'zk');
  return new Promise((resolve) => {
    // The binary exits 1 when a test fails: the outcomes are read from its output either way.
    execFile(binary, args, { cwd, env: goEnv(dir, env, kind), timeout: SUITE_TIMEOUT_MS + 60_000, maxBuffer: 256 * 1024 * 1024 }, (_error, stdout, stderr) => {
      const outcomes = new Map<string, Outcome>();
      for (const m of stdout.matchAll(/^\s*--- (PASS|FAIL|SKIP): (\w+) /gm)) outcomes.set(m[2]!, m[1] as Outcome);
      resolve({ outcomes, output: `${stdout.slice(-6000)}\n--- stderr ---\n${stderr.slice(-3000)}` });
    });
  });
}

describe.skipIf(go_missing.length > 0)("go-zookeeper's own test suite", () => {
  let dir: SuiteDir;
  let runs: Map<Kind, SuiteRun<Outcome>>;
  let env: Prepared;

  beforeAll(async () => {
    dir = new SuiteDir('waitfree-gozk-');
    env = prepare(dir.root);
    const binary = await buildTests(dir, env);
    const kinds: Kind[] = zk_missing.length === 0 ? ['zookeeper', 'waitfree'] : ['waitfree'];
    // A timing-bound test (TestSlowServer, TestNoQuorum) can miss once on a loaded host.
    runs = await runOnEachKind(kinds, {
      run: (kind, name) => runSuite(dir, env, binary, kind, name),
      failed: 'FAIL',
      expectedFailure: (_kind, name) => FAILING_ON_BOTH.includes(name),
    });
  }, 4 * (SUITE_TIMEOUT_MS + 90_000));

  afterAll(() => dir?.dispose());

  it('runs the whole suite on waitfree: everything passes but the test that fails on any server', () => {
    const wf = runs.get('waitfree')!.outcomes;
    expect([...wf.keys()].sort(), runs.get('waitfree')!.output).toEqual(env.tests);
    const failed = [...wf].filter(([, o]) => o === 'FAIL').map(([name]) => name);
    expect(failed.sort(), runs.get('waitfree')!.output).toEqual(FAILING_ON_BOTH);
    // The cluster tests: 3 members, a member killed under a client, no quorum, session expiry.
    for (const name of ['TestBasicCluster', 'TestClientClusterFailover', 'TestNoQuorum', 'TestBadSession', 'TestLock', 'TestSetWatchers', 'TestExpiringWatch']) {
      expect(wf.get(name), name).toBe('PASS');
    }
  });

  it.skipIf(zk_missing.length > 0)('each test ends on waitfree as on Apache ZooKeeper 3.8', () => {
    const zk = runs.get('zookeeper')!.outcomes;
    expect([...zk.keys()].sort(), runs.get('zookeeper')!.output).toEqual(env.tests);
    expect(Object.fromEntries(runs.get('waitfree')!.outcomes), runs.get('waitfree')!.output).toEqual(Object.fromEntries(zk));
  });
});
