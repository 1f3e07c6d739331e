#!/bin/bash
# Stand-in for the C client test suite's tests/zkServer.sh (run_suite.sh copies it there): the
# same commands (startClean, start, startCleanReadOnly, startRequireSASLAuth [jaas] [readOnly],
# stop) and the same server settings as its zoo.cfg and JVM flags, for SERVER_KIND waitfree
# (WAITFREE_BIN) or zookeeper (Debian's jars), on 127.0.0.1:$ZOOPORT. As the original, a start
# first SIGKILLs the server it started before (stop does nothing): the suite restarts servers
# that way, and the last one is left to the caller ($CSUITE_STATE/pid). Not written by
# ZooKeeper's authors: their script starts a server from a source build, with SSL.
set -u
cmd=${1:-}
ZOOPORT=${ZOOPORT:-22181}
ZKMAXCNXNS=${ZKMAXCNXNS:-100}
state=${CSUITE_STATE:?CSUITE_STATE must name the directory for the data, config and PID of the server}
mkdir -p "$state"
# The server started before is gone before the next one starts: until then its port still takes
# connections (a JVM takes a while to die), and the probe below would find the old server.
if [ -r "$state/pid" ]; then
  old=$(cat "$state/pid")
  kill -9 "$old" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  rm -f "$state/pid"
fi
case "$cmd" in
start|startClean|startCleanReadOnly|startRequireSASLAuth)
  if [ "$cmd" = startClean ] || [ "$cmd" = startCleanReadOnly ]; then rm -rf "$state/zkdata"; fi
  mkdir -p "$state/zkdata"
  cat > "$state/zoo.cfg" <<C
tickTime=500
initLimit=10
syncLimit=5
dataDir=$state/zkdata
maxClientCnxns=$ZKMAXCNXNS
localSessionsEnabled=true
clientPort=$ZOOPORT
clientPortAddress=127.0.0.1
admin.enableServer=false
zookeeper.extendedTypesEnabled=true
znode.container.checkIntervalMs=100
C
  # Read-only mode: one member of a three-member ensemble whose others never start.
  ro=
  if [ "$cmd" = startCleanReadOnly ] || { [ "$cmd" = startRequireSASLAuth ] && [ -n "${3:-}" ]; }; then
    ro=1
    # (the suite's 22881-22883:33881-33883, moved where nothing else of ours listens)
    printf 'server.1=127.0.0.1:18881:18981\nserver.2=127.0.0.1:18882:18982\nserver.3=127.0.0.1:18883:18983\nreadonlymode.enabled=true\n' >> "$state/zoo.cfg"
    echo 1 > "$state/zkdata/myid"
  fi
  if [ "$cmd" = startRequireSASLAuth ]; then
    printf 'sessionRequireClientSASLAuth=true\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n' >> "$state/zoo.cfg"
  fi
  if [ "$SERVER_KIND" = waitfree ]; then
    if [ "$cmd" = startRequireSASLAuth ] && [ -n "${2:-}" ]; then echo "java.security.auth.login.config=$(realpath "$2")" >> "$state/zoo.cfg"; fi
    node "$WAITFREE_BIN" server --config "$state/zoo.cfg" > "$state/zk.log" 2>&1 &
  else
    props="-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=100"
    [ -n "$ro" ] && props="$props -Dreadonlymode.enabled=true"
    if [ "$cmd" = startRequireSASLAuth ]; then
      props="$props -Dzookeeper.sessionRequireClientSASLAuth=true -Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
      [ -n "${2:-}" ] && props="$props -Djava.security.auth.login.config=$2"
    fi
    main=org.apache.zookeeper.server.ZooKeeperServerMain
    [ -n "$ro" ] && main=org.apache.zookeeper.server.quorum.QuorumPeerMain
    java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar $props $main "$state/zoo.cfg" > "$state/zk.log" 2>&1 &
  fi
  echo -n $! > "$state/pid"
  # Until the server serves (srvr answers with its version; up to 20 s): a start on a loaded
  # 2-core CI host can take more than the 4 s a fixed sleep gave, a client that finds no server
  # loses the requests it queued, and ZooKeeper takes connections before it serves. A read-only
  # member answers once its port is open; its election then has to give up before it serves.
  for i in $(seq 1 200); do
    if [ -n "$ro" ]; then
      if (exec 3<>/dev/tcp/127.0.0.1/$ZOOPORT) 2>/dev/null; then sleep 4; exit 0; fi
    else
      reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ZOOPORT && printf srvr >&3 && cat <&3" 2>/dev/null)
      if [[ "$reply" == *"Zookeeper version:"* ]]; then exit 0; fi
    fi
    sleep 0.1
  done
  echo " server NOT started"; exit 0
  ;;
stop) ;;
*) echo "Unknown command $cmd"; exit 2 ;;
esac
