#!/bin/bash
# Stand-in for ZooKeeper's bin/zkServer.sh {start|stop|status} CONFIG, as the C client suite's
# ZooKeeperQuorumServer (TestReconfigServer) calls it as $ZKROOT/bin/zkServer.sh: starts
# SERVER_KIND (waitfree | zookeeper) with CONFIG, keeps the PID beside CONFIG, and answers status
# from srvr. The -Dkey=value of SERVER_JVMFLAGS become config lines for waitfree. To try it:
# mkdir -p Z/bin && cp test/c_client/quorum_zkServer.sh Z/bin/zkServer.sh, then
# SUITES=TestReconfigServer ZKROOT=Z test/c_client/run_suite.sh (not run by CI: see the notes).
set -u
cmd=$1; cfg=$2; pidf="$cfg.pid"
# The client port: clientPort=, or the server.N line of this server's myid (ZooKeeper moves
# both into a dynamic file it names in dynamicConfigFile= when reconfig is enabled).
port=$(sed -n 's/^clientPort=//p' "$cfg" | head -1)
if [ -z "$port" ]; then
  dir=$(sed -n 's/^dataDir=//p' "$cfg" | head -1); id=$(cat "$dir/myid" 2>/dev/null)
  dyn=$(sed -n 's/^dynamicConfigFile=//p' "$cfg" | head -1)
  port=$(cat "$cfg" ${dyn:+"$dyn"} 2>/dev/null | sed -n "s/^server\.$id=.*:\([0-9]*\)\$/\1/p" | head -1)
fi
case "$cmd" in
start)
  if [ "$SERVER_KIND" = waitfree ]; then
    run="$cfg.waitfree"; cp "$cfg" "$run"
    for f in ${SERVER_JVMFLAGS:-}; do case "$f" in -D*=*) echo "${f#-D}" >> "$run" ;; esac; done
    node "$WAITFREE_BIN" server --config "$run" > "$cfg.log" 2>&1 &
  else
    java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar ${SERVER_JVMFLAGS:-} -Dzookeeper.admin.enableServer=false -Dzookeeper.4lw.commands.whitelist=srvr,stat org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg" > "$cfg.log" 2>&1 &
  fi
  echo $! > "$pidf"
  echo "STARTED"
  ;;
stop)
  if [ -r "$pidf" ]; then
    pid=$(cat "$pidf"); kill "$pid" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null; rm -f "$pidf"
  fi
  echo "STOPPED"
  ;;
status)
  out=$( (exec 3<>/dev/tcp/127.0.0.1/$port && echo srvr >&3 && timeout 2 cat <&3) 2>/dev/null)
  mode=$(echo "$out" | sed -n 's/^Mode: //p')
  if [ -n "$mode" ]; then echo "Mode: $mode"; else echo "Error contacting service. It is probably not running."; exit 1; fi
  ;;
esac
