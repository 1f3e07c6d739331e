#!/usr/bin/env bash
# Apache ZooKeeper's C client test suite (zktest-mt: cppunit, tests/*.cc of the 3.8.0 source that
# Debian's zookeeper source package holds) against waitfree, and on request against Apache
# ZooKeeper 3.8 (Debian's jars) for comparison. Builds the suite once into WORK (the source from
# `apt-get source zookeeper`, which needs a deb-src line; the jute C code generated with the jute
# compiler of Debian's zookeeper-jute.jar), then runs each suite with test/c_client/zkServer.sh as
# its server script.
#
# usage: test/c_client/run_suite.sh [KIND...]          KIND: waitfree (default), zookeeper
#        test/c_client/run_suite.sh --build-only
# env:   WORK (default /tmp/waitfree-c-client), SUITES (cppunit suite names), WAITFREE_BIN
# needs: apt-get install libcppunit-dev autoconf automake libtool pkg-config libsasl2-dev
#        libsasl2-modules default-jdk-headless zookeeper; and `npm run build` for waitfree.
#
# Exit 0 when every test passes on every kind but those in EXPECTED_FAIL, which must fail (on
# ZooKeeper 3.8 too, for the same reason: they connect to [::1], and the servers here listen on
# 127.0.0.1 only). The suite's server port (22181 in its sources, where kazoo's suite here puts a
# ZooKeeper member) is patched to PORT, below the ports the other suites and freePort use, so CI
# can run it beside them; one port for all: kinds run one after the other. Not run: TestReconfigServer (test/c_client/quorum_zkServer.sh stands in for its
# bin/zkServer.sh: SUITES=TestReconfigServer ZKROOT=... to try it; see ARCHITECTURE.md).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${WORK:-/tmp/waitfree-c-client}
SUITES=${SUITES:-"Zookeeper_simpleSystem Zookeeper_multi Zookeeper_clientretry Zookeeper_readOnly Zookeeper_SASLAuth Zookeeper_watchers Zookeeper_operations Zookeeper_close Zookeeper_init Zookeeper_reconfig Zookeeper_logClientEnv"}
EXPECTED_FAIL="Zookeeper_simpleSystem::testIPV6 Zookeeper_SASLAuth::testClientSASLOverIPv6"
export WAITFREE_BIN=${WAITFREE_BIN:-$REPO/bin/waitfree.js}
KINDS=("$@")
[ ${#KINDS[@]} -gt 0 ] || KINDS=(waitfree)
SUITE_TIMEOUT_S=600
PORT=18181
BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then BUILD_ONLY=1; shift; fi

mkdir -p "$WORK"
SRC="$WORK/apache-zookeeper-3.8.0"
C="$SRC/zookeeper-client/zookeeper-client-c"

if [ ! -d "$SRC" ]; then
  (cd "$WORK" && apt-get source --download-only zookeeper >/dev/null) || {
    echo "apt-get source zookeeper failed: add a deb-src line for the Debian release (see .ci/run)" >&2
    exit 1
  }
  tar -xzf "$WORK"/zookeeper_3.8.0.orig.tar.gz -C "$WORK"
fi

# The port, in every test source that names it; a build made before is made again.
if grep -lq 22181 "$C"/tests/*.cc; then
  sed -i "s/22181/$PORT/g" "$C"/tests/*.cc
  rm -f "$C/zktest-mt"
fi
# testHangingClient's watcher calls zoo_wget_children while the test thread may already be in
# zookeeper_close. The client answers that call itself: ZCLOSING, or, once close_requested is set
# before the call queues its completion, ZINVALIDSTATE, which nonblocking_send returns as
# ZMARSHALLINGERROR (src/zookeeper.c; no request reaches a server). The test accepts only the
# first, so it aborts the whole suite (the assertion throws on the completion thread) at random:
# 3 runs in 10 against Apache ZooKeeper 3.8 here, as against waitfree. Accept the client's other
# answer to the same race; the test still checks what it is for (close does not deadlock).
if grep -q 'CPPUNIT_ASSERT(zrc == ZOK || zrc == ZCLOSING);' "$C/tests/TestClient.cc"; then
  sed -i 's/CPPUNIT_ASSERT(zrc == ZOK || zrc == ZCLOSING);/CPPUNIT_ASSERT(zrc == ZOK || zrc == ZCLOSING || zrc == ZMARSHALLINGERROR);/' "$C/tests/TestClient.cc"
  rm -f "$C/zktest-mt"
fi
if [ ! -x "$C/zktest-mt" ]; then
  echo "building zktest-mt in $C"
  mkdir -p "$C/generated"
  (cd "$C/generated" && java -cp /usr/share/java/zookeeper-jute.jar org.apache.jute.compiler.generated.Rcc -l c \
    "$SRC/zookeeper-jute/src/main/resources/zookeeper.jute" >/dev/null)
  # tests/Util.cc calls nanosleep without <time.h> (newer g++ no longer pulls it in).
  grep -q '^#include <time.h>' "$C/tests/Util.cc" || sed -i '1i #include <time.h>' "$C/tests/Util.cc"
  (cd "$C" && autoreconf -if >/dev/null 2>&1 && ./configure --without-openssl --with-sasl >"$WORK/configure.log" 2>&1 &&
    make -j"$(nproc)" zktest-mt >"$WORK/make.log" 2>&1) || { tail -n 30 "$WORK/make.log" "$WORK/configure.log" >&2; exit 1; }
fi
cp "$REPO/test/c_client/zkServer.sh" "$C/tests/zkServer.sh"
[ "$BUILD_ONLY" -eq 0 ] || { echo "zktest-mt built in $C"; exit 0; }
export ZOOPORT=$PORT

# outcomes LOG: "Suite::test OK|FAIL" per test, from cppunit's brief progress lines (the name when
# a test starts; " : elapsed N : OK" or " : assertion" / " : error" when it ends; log lines between).
outcomes() {
  python3 - "$1" <<'PY'
import re, sys
current = None
for line in open(sys.argv[1], errors='replace'):
    m = re.match(r'^(\w+::\w+)', line)
    if m:
        current = m.group(1)
    if current and re.search(r' : (elapsed \d+ : OK|assertion|error)', line):
        print(current, 'OK' if line.rstrip().endswith(': OK') else 'FAIL')
        current = None
PY
}

status=0
for kind in "${KINDS[@]}"; do
  state="$WORK/state-$kind"
  rm -rf "$state"; mkdir -p "$state"
  for suite in $SUITES; do
    log="$WORK/$kind-$suite.log"
    set +e
    (cd "$C" && SERVER_KIND=$kind CSUITE_STATE=$state timeout "$SUITE_TIMEOUT_S" ./zktest-mt "$suite" >"$log" 2>&1)
    rc=$?
    set -e
    # The suite leaves its last server running: stop it by its PID.
    if [ -r "$state/pid" ]; then kill -9 "$(cat "$state/pid")" 2>/dev/null || true; rm -f "$state/pid"; fi
    ran=$(outcomes "$log")
    while read -r name outcome; do
      [ -n "$name" ] || continue
      expected=OK
      [[ " $EXPECTED_FAIL " == *" $name "* ]] && expected=FAIL
      if [ "$outcome" = "$expected" ]; then echo "$kind $name $outcome"; else
        echo "$kind $name $outcome (expected $expected)"; status=1
      fi
    done <<<"$ran"
    summary=$(grep -aE '^(OK \(|Run: )' "$log" || true)
    echo "$kind $suite: exit $rc, ${summary:-no summary (aborted?)}"
    # A suite that ended without its summary (abort, timeout) failed, whatever ran before.
    [ -n "$summary" ] || status=1
    if [ "$rc" -ne 0 ] && [ -z "$(grep -aE '^Run: ' "$log" || true)" ]; then status=1; fi
  done
done
[ "$status" -eq 0 ] && echo "C client suite: every test as expected" || echo "C client suite: FAILED (logs in $WORK)"
exit "$status"
