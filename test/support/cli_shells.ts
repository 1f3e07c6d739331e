// Shell specs for Apache ZooKeeper's two command-line clients, for ShellSession.

import { CLI_MT_PATH, NETTY_TLS_JARS, ZK_JAR, ZKCLI_PATH } from './servers.js';
import { ShellSession } from './shell_driver.js';

const ZKCLI_TLS_CLASSPATH = ['/etc/zookeeper/conf', ZK_JAR, ...NETTY_TLS_JARS].join(':');

export interface ZkCliOptions {
  /** A client JAAS file (its Client section logs in with SASL), as -Djava.security.auth.login.config. */
  readonly jaas_file?: string;
  /** The output that means the shell may take commands (default: the SyncConnected event). */
  readonly ready?: RegExp;
  /** Connect over TLS (the Netty client socket, as ZooKeeper's TLS guide sets it up) with this
   *  PKCS#12 key store (none: no client certificate) and this PEM trust store. */
  readonly tls?: { readonly keyStore: string | null; readonly password: string; readonly trustStore: string };
}

/**
 * zkCli.sh (Java, ZooKeeperMain) reading commands from stdin. Without a terminal JLine is off:
 * no prompt, one command per line, each executed synchronously in order. With a JAAS file the
 * client holds its requests until its SASL exchange ends.
 * Sentinel: `stat` of a missing node prints `Node does not exist: <path>`.
 */
export function startZkCli(connectString: string, options: ZkCliOptions = {}): Promise<ShellSession> {
  // A small heap keeps the JVM quick to start on a 2-core machine.
  const jvm_flags = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
  if (options.jaas_file !== undefined) jvm_flags.push(`-Djava.security.auth.login.config=${options.jaas_file}`);
  if (options.tls !== undefined) {
    // zookeeper.jar's Class-Path (Debian) lists netty's transport and handler but not the
    // resolver and codec the Netty client socket needs; zkCli.sh's -cp comes first, this one wins.
    jvm_flags.push('-cp', ZKCLI_TLS_CLASSPATH);
    jvm_flags.push('-Dzookeeper.client.secure=true', '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty');
    jvm_flags.push(`-Dzookeeper.ssl.trustStore.location=${options.tls.trustStore}`);
    if (options.tls.keyStore !== null) {
      jvm_flags.push(`-Dzookeeper.ssl.keyStore.location=${options.tls.keyStore}`, `-Dzookeeper.ssl.keyStore.password=${options.tls.password}`);
    }
  }
  return ShellSession.start({
    command: ZKCLI_PATH,
    args: ['-server', connectString],
    ready: options.ready ?? /WatchedEvent state:SyncConnected type:None path:null\n/,
    sentinel: (n) => ({ command: `stat /__sentinel_${n}`, done: new RegExp(`Node does not exist: /__sentinel_${n}\\n`) }),
    env: { ...process.env, CLIENT_JVMFLAGS: jvm_flags.join(' ') },
  });
}

/**
 * cli_mt (C client shell, multi-threaded build) reading commands from stdin. Commands are sent
 * asynchronously and print on completion; `exists` is synchronous and prints nothing on success.
 * Sentinel: `get` of a missing node completes with `<path>: rc = -101`.
 */
export function startCliMt(connectString: string): Promise<ShellSession> {
  return ShellSession.start({
    command: CLI_MT_PATH,
    args: [connectString],
    ready: /Got a new session id: 0x[0-9a-f]+\n/,
    sentinel: (n) => ({ command: `get /__sentinel_${n}`, done: new RegExp(`(time = \\d+ msec\\n)?/__sentinel_${n}: rc = -101\\n\\nStat:\\nnull\\n`) }),
  });
}
