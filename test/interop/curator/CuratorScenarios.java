// Apache Curator 5.4 (Debian's libcurator-*-java) against one server: the framework's builders and
// the recipes ZooKeeper users build on, each scenario in its own namespace. Prints one JSON line
// per scenario, {"scenario": name, "result": ...}, with only what a user would observe (no session
// ids, zxids or timings), so that Apache ZooKeeper and waitfree must print the same lines.
//
// Run: java -cp /usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-simple.jar \
//        CuratorScenarios.java HOST:PORT [SCENARIO...]

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

public class CuratorScenarios {
  static final int WAIT_S = 15;
  static String connect;

  interface Scenario {
    Object run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    connect = args[0];
    Map<String, Scenario> all = new LinkedHashMap<>();
    all.put("framework", CuratorScenarios::framework);
    all.put("transaction", CuratorScenarios::transaction);
    all.put("watches", CuratorScenarios::watches);
    all.put("mutex", CuratorScenarios::mutex);
    all.put("rwlock", CuratorScenarios::rwlock);
    all.put("semaphore", CuratorScenarios::semaphore);
    all.put("leader_latch", CuratorScenarios::leaderLatch);
    all.put("curator_cache", CuratorScenarios::curatorCache);
    all.put("tree_cache", CuratorScenarios::treeCache);
    all.put("counters", CuratorScenarios::counters);
    all.put("double_barrier", CuratorScenarios::doubleBarrier);
    all.put("queue", CuratorScenarios::queue);
    all.put("ephemerals", CuratorScenarios::ephemerals);
    all.put("config", CuratorScenarios::config);
    // Not in the default list: failover needs the caller to kill the ensemble's leader (see
    // failover()); reconfig an ensemble with reconfigEnabled, the super user's digest and a
    // follower named after it: `reconfig SID CLIENT_HOST:PORT` (see reconfig()).
    Map<String, Scenario> on_request = Map.of("failover", CuratorScenarios::failover, "reconfig", CuratorScenarios::reconfig);
    List<String> chosen = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("reconfig") && i + 2 < args.length) {
        reconfig_sid = args[i + 1];
        reconfig_client = args[i + 2];
        chosen.add(args[i]);
        i += 2;
      } else {
        chosen.add(args[i]);
      }
    }
    if (chosen.isEmpty()) chosen.addAll(all.keySet());
    for (String name : chosen) {
      Scenario s = all.containsKey(name) ? all.get(name) : on_request.get(name);
      if (s == null) throw new IllegalArgumentException("no scenario " + name);
      Object result;
      try {
        result = s.run();
      } catch (Exception e) {
        result = "FAILED: " + e;
      }
      System.out.println("{\"scenario\":" + json(name) + ",\"result\":" + json(result) + "}");
      System.out.flush();
    }
    System.exit(0);
  }

  // ---- the scenarios ----

  /** The builders: parents, sequential names, create-or-set, versions, stats, protection, ACLs. */
  static Object framework() throws Exception {
    try (CuratorFramework c = client()) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("created", c.create().creatingParentsIfNeeded().forPath("/a/b/c", bytes("x")));
      List<String> seq = new ArrayList<>();
      for (int i = 0; i < 3; i++) seq.add(ZKPaths.getNodeFromPath(c.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/seq/n-", bytes(""))));
      out.put("sequential", seq);
      c.create().orSetData().forPath("/a/b/c", bytes("y"));
      Stat st = new Stat();
      out.put("orSetData", text(c.getData().storingStatIn(st).forPath("/a/b/c")) + " v" + st.getVersion());
      out.put("bad_version", caught(() -> c.setData().withVersion(0).forPath("/a/b/c", bytes("z"))));
      out.put("exists_twice", caught(() -> c.create().forPath("/a/b/c")));
      Stat created = new Stat();
      c.create().storingStatIn(created).forPath("/st", bytes("12345"));
      out.put("create2_stat", "version " + created.getVersion() + " length " + created.getDataLength() + " children " + created.getNumChildren() + " czxid==mzxid " + (created.getCzxid() == created.getMzxid()));
      out.put("parent_cversion", c.checkExists().forPath("/seq").getCversion());
      out.put("missing", String.valueOf(c.checkExists().forPath("/nope")));
      String p = c.create().creatingParentsIfNeeded().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/p/lock-", bytes(""));
      String node = ZKPaths.getNodeFromPath(p);
      out.put("protected", node.startsWith("_c_") && node.contains("-lock-") && node.length() == "_c_".length() + 36 + "-lock-".length() + 10);
      List<String> acl = new ArrayList<>();
      for (ACL a : c.getACL().forPath("/a")) acl.add(a.getId().getScheme() + ":" + a.getId().getId() + ":" + a.getPerms());
      out.put("acl", acl);
      out.put("children", sorted(c.getChildren().forPath("/a")));
      out.put("delete_not_empty", caught(() -> c.delete().forPath("/a")));
      c.delete().deletingChildrenIfNeeded().forPath("/a");
      out.put("after_recursive_delete", String.valueOf(c.checkExists().forPath("/a")));
      out.put("guaranteed_delete_missing", caught(() -> c.delete().guaranteed().forPath("/gone")));
      out.put("quietly_delete_missing", caught(() -> c.delete().quietly().forPath("/gone")));
      c.createContainers("/container/x");
      out.put("container_stat", c.checkExists().forPath("/container/x") != null);
      return out;
    }
  }

  /** multi: all-or-nothing, with each op's result; a failed check leaves nothing behind. */
  static Object transaction() throws Exception {
    try (CuratorFramework c = client()) {
      Map<String, Object> out = new LinkedHashMap<>();
      List<CuratorOp> ops = List.of(
          c.transactionOp().create().forPath("/t1", bytes("a")),
          c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/t1/s-", bytes("")),
          c.transactionOp().setData().forPath("/t1", bytes("b")),
          c.transactionOp().check().withVersion(1).forPath("/t1"));
      List<String> results = new ArrayList<>();
      for (CuratorTransactionResult r : c.transaction().forOperations(ops)) results.add(r.getType() + " " + r.getForPath() + " -> " + r.getResultPath() + " v" + (r.getResultStat() == null ? "-" : r.getResultStat().getVersion()));
      out.put("results", results);
      List<CuratorOp> failing = List.of(
          c.transactionOp().create().forPath("/t2", bytes("a")),
          c.transactionOp().check().withVersion(7).forPath("/t1"));
      out.put("failing", caught(() -> c.transaction().forOperations(failing)));
      out.put("t2_after_failure", String.valueOf(c.checkExists().forPath("/t2")));
      out.put("t1", text(c.getData().forPath("/t1")));
      return out;
    }
  }

  /** One-shot watchers, persistent recursive watches (addWatch) and their removal. */
  static Object watches() throws Exception {
    try (CuratorFramework c = client(); CuratorFramework other = client(c)) {
      Map<String, Object> out = new LinkedHashMap<>();
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      Watcher w = (WatchedEvent e) -> events.add(e.getType() + " " + e.getPath());
      c.create().forPath("/w", bytes("0"));
      c.getData().usingWatcher(w).forPath("/w");
      other.setData().forPath("/w", bytes("1"));
      out.put("data_watch", events.poll(WAIT_S, TimeUnit.SECONDS));
      c.checkExists().usingWatcher(w).forPath("/w/new");
      other.create().forPath("/w/new");
      out.put("exists_watch", events.poll(WAIT_S, TimeUnit.SECONDS));
      c.getChildren().usingWatcher(w).forPath("/w");
      other.create().forPath("/w/second");
      out.put("child_watch", events.poll(WAIT_S, TimeUnit.SECONDS));

      BlockingQueue<String> recursive = new LinkedBlockingQueue<>();
      Watcher rw = (WatchedEvent e) -> recursive.add(e.getType() + " " + e.getPath());
      c.create().forPath("/r");
      c.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(rw).forPath("/r");
      other.create().forPath("/r/x");
      other.create().forPath("/r/x/y");
      other.setData().forPath("/r/x", bytes("1"));
      other.delete().forPath("/r/x/y");
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 4; i++) seen.add(recursive.poll(WAIT_S, TimeUnit.SECONDS));
      out.put("persistent_recursive", seen);
      // The 3.8 client cannot remove a persistent watch by itself (ZOOKEEPER-4472, fixed in 3.9).
      out.put("remove_persistent", caught(() -> c.watchers().remove(rw).ofType(Watcher.WatcherType.Any).forPath("/r")));
      BlockingQueue<String> one_shot = new LinkedBlockingQueue<>();
      Watcher dw = (WatchedEvent e) -> one_shot.add(e.getType() + " " + e.getPath());
      c.getData().usingWatcher(dw).forPath("/r/x");
      out.put("remove_data_watch", caught(() -> c.watchers().remove(dw).ofType(Watcher.WatcherType.Data).forPath("/r/x")));
      out.put("removed_event", one_shot.poll(WAIT_S, TimeUnit.SECONDS));
      other.setData().forPath("/r/x", bytes("2"));
      // The persistent watch still fires; the removed one-shot watch does not.
      out.put("after_removal", recursive.poll(WAIT_S, TimeUnit.SECONDS) + " / one-shot " + one_shot.poll(300, TimeUnit.MILLISECONDS));
      out.put("remove_again", caught(() -> c.watchers().remove(dw).ofType(Watcher.WatcherType.Data).forPath("/r/x")));
      return out;
    }
  }

  /** InterProcessMutex across two sessions: exclusion, reentrancy, hand-over. */
  static Object mutex() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      Map<String, Object> out = new LinkedHashMap<>();
      InterProcessMutex ma = new InterProcessMutex(a, "/lock");
      InterProcessMutex mb = new InterProcessMutex(b, "/lock");
      out.put("a_acquires", ma.acquire(WAIT_S, TimeUnit.SECONDS));
      out.put("a_reenters", ma.acquire(WAIT_S, TimeUnit.SECONDS));
      out.put("b_while_held", mb.acquire(300, TimeUnit.MILLISECONDS));
      ma.release();
      out.put("b_after_one_release", mb.acquire(300, TimeUnit.MILLISECONDS));
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<Boolean> waiting = pool.submit(() -> mb.acquire(WAIT_S, TimeUnit.SECONDS));
      Thread.sleep(200);
      ma.release();
      out.put("b_after_release", waiting.get(WAIT_S, TimeUnit.SECONDS));
      out.put("participants", mb.getParticipantNodes().size());
      pool.submit(() -> {
        mb.release();
        return null;
      }).get(WAIT_S, TimeUnit.SECONDS);
      pool.shutdown();
      out.put("lock_children_left", a.getChildren().forPath("/lock").size());
      return out;
    }
  }

  /** InterProcessReadWriteLock: readers share, a writer excludes them. */
  static Object rwlock() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      Map<String, Object> out = new LinkedHashMap<>();
      InterProcessReadWriteLock la = new InterProcessReadWriteLock(a, "/rw");
      InterProcessReadWriteLock lb = new InterProcessReadWriteLock(b, "/rw");
      out.put("a_read", la.readLock().acquire(WAIT_S, TimeUnit.SECONDS));
      out.put("b_read_shared", lb.readLock().acquire(WAIT_S, TimeUnit.SECONDS));
      lb.readLock().release();
      out.put("b_write_while_read", lb.writeLock().acquire(300, TimeUnit.MILLISECONDS));
      la.readLock().release();
      out.put("b_write_after", lb.writeLock().acquire(WAIT_S, TimeUnit.SECONDS));
      lb.writeLock().release();
      return out;
    }
  }

  /** InterProcessSemaphoreV2 with 2 leases. */
  static Object semaphore() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      Map<String, Object> out = new LinkedHashMap<>();
      InterProcessSemaphoreV2 sa = new InterProcessSemaphoreV2(a, "/sem", 2);
      InterProcessSemaphoreV2 sb = new InterProcessSemaphoreV2(b, "/sem", 2);
      List<Lease> held = new ArrayList<>(sa.acquire(2, WAIT_S, TimeUnit.SECONDS));
      out.put("a_leases", held.size());
      out.put("b_while_full", String.valueOf(sb.acquire(300, TimeUnit.MILLISECONDS)));
      sa.returnLease(held.remove(0));
      Lease got = sb.acquire(WAIT_S, TimeUnit.SECONDS);
      out.put("b_after_return", got != null);
      out.put("participants", sb.getParticipantNodes().size());
      sb.returnLease(got);
      sa.returnAll(held);
      return out;
    }
  }

  /** LeaderLatch: one leader of two; closing it hands leadership over. */
  static Object leaderLatch() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      Map<String, Object> out = new LinkedHashMap<>();
      LeaderLatch la = new LeaderLatch(a, "/leader", "a");
      la.start();
      out.put("a_leads", la.await(WAIT_S, TimeUnit.SECONDS));
      LeaderLatch lb = new LeaderLatch(b, "/leader", "b");
      lb.start();
      Thread.sleep(300);
      out.put("b_leads_meanwhile", lb.hasLeadership());
      out.put("leader_id_seen_by_b", lb.getLeader().getId());
      out.put("participants", lb.getParticipants().size());
      la.close();
      out.put("b_leads_after_close", lb.await(WAIT_S, TimeUnit.SECONDS));
      lb.close();
      return out;
    }
  }

  /** CuratorCache (persistent recursive watches since Curator 5): the events of one subtree. */
  static Object curatorCache() throws Exception {
    try (CuratorFramework c = client(); CuratorFramework other = client(c)) {
      c.create().forPath("/cc", bytes("root"));
      c.create().forPath("/cc/pre", bytes("p"));
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      CountDownLatch initialized = new CountDownLatch(1);
      List<Object> out = new ArrayList<>();
      try (CuratorCache cache = CuratorCache.build(c, "/cc")) {
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forAll((type, before, after) -> events.add(type + " " + (after != null ? after.getPath() + "=" + text(after.getData()) : before.getPath())))
            .forInitialized(initialized::countDown)
            .build());
        cache.start();
        out.add(initialized.await(WAIT_S, TimeUnit.SECONDS));
        List<String> initial = new ArrayList<>();
        initial.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        initial.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        Collections.sort(initial);
        out.add(initial);
        other.create().forPath("/cc/a", bytes("1"));
        out.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        other.create().forPath("/cc/a/b", bytes("2"));
        out.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        other.setData().forPath("/cc/a", bytes("3"));
        out.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        other.delete().deletingChildrenIfNeeded().forPath("/cc/a");
        List<String> deletes = new ArrayList<>();
        deletes.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        deletes.add(events.poll(WAIT_S, TimeUnit.SECONDS));
        Collections.sort(deletes);
        out.add(deletes);
        out.add(cache.size());
      }
      return out;
    }
  }

  /** TreeCache: a subtree mirrored, then changed under it. */
  static Object treeCache() throws Exception {
    try (CuratorFramework c = client(); CuratorFramework other = client(c)) {
      for (String p : List.of("/tc/x/1", "/tc/x/2", "/tc/y")) c.create().creatingParentsIfNeeded().forPath(p, bytes(p));
      CountDownLatch initialized = new CountDownLatch(1);
      BlockingQueue<String> changes = new LinkedBlockingQueue<>();
      Map<String, Object> out = new LinkedHashMap<>();
      try (TreeCache cache = TreeCache.newBuilder(c, "/tc").build()) {
        cache.getListenable().addListener((client, e) -> {
          switch (e.getType()) {
            case INITIALIZED -> initialized.countDown();
            case NODE_ADDED, NODE_UPDATED, NODE_REMOVED -> {
              if (initialized.getCount() == 0) changes.add(e.getType() + " " + e.getData().getPath());
            }
            default -> {}
          }
        });
        cache.start();
        out.put("initialized", initialized.await(WAIT_S, TimeUnit.SECONDS));
        out.put("x_children", sorted(new ArrayList<>(cache.getCurrentChildren("/tc/x").keySet())));
        out.put("y_data", text(cache.getCurrentData("/tc/y").getData()));
        other.create().forPath("/tc/x/3", bytes("3"));
        out.put("added", changes.poll(WAIT_S, TimeUnit.SECONDS));
        other.setData().forPath("/tc/y", bytes("new"));
        out.put("updated", changes.poll(WAIT_S, TimeUnit.SECONDS));
        other.delete().forPath("/tc/x/1");
        out.put("removed", changes.poll(WAIT_S, TimeUnit.SECONDS));
        out.put("x_children_after", sorted(new ArrayList<>(cache.getCurrentChildren("/tc/x").keySet())));
      }
      return out;
    }
  }

  /** DistributedAtomicLong from two sessions at once, SharedCount's versioned set. */
  static Object counters() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      Map<String, Object> out = new LinkedHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(2);
      List<Callable<Integer>> work = new ArrayList<>();
      for (CuratorFramework c : List.of(a, b)) {
        work.add(() -> {
          DistributedAtomicLong n = new DistributedAtomicLong(c, "/counter", new ExponentialBackoffRetry(10, 29, 200));
          int ok = 0;
          for (int i = 0; i < 25; i++) if (n.increment().succeeded()) ok++;
          return ok;
        });
      }
      int succeeded = 0;
      for (Future<Integer> f : pool.invokeAll(work, WAIT_S * 2, TimeUnit.SECONDS)) succeeded += f.get();
      pool.shutdown();
      AtomicValue<Long> v = new DistributedAtomicLong(a, "/counter", new ExponentialBackoffRetry(10, 3)).get();
      out.put("increments_succeeded", succeeded);
      out.put("counter", v.postValue());
      try (SharedCount ca = new SharedCount(a, "/shared", 0); SharedCount cb = new SharedCount(b, "/shared", 0)) {
        ca.start();
        cb.start();
        VersionedValue<Integer> seen = cb.getVersionedValue();
        out.put("a_set", ca.trySetCount(ca.getVersionedValue(), 5));
        out.put("b_stale_set", cb.trySetCount(seen, 9));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (cb.getCount() != 5 && System.nanoTime() < deadline) Thread.sleep(10);
        out.put("b_sees", cb.getCount());
        out.put("b_fresh_set", cb.trySetCount(cb.getVersionedValue(), 9));
      }
      return out;
    }
  }

  /** DistributedDoubleBarrier of two members, each in its own session. */
  static Object doubleBarrier() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      ExecutorService pool = Executors.newFixedThreadPool(2);
      List<Callable<String>> members = new ArrayList<>();
      for (CuratorFramework c : List.of(a, b)) {
        members.add(() -> {
          DistributedDoubleBarrier barrier = new DistributedDoubleBarrier(c, "/barrier", 2);
          boolean entered = barrier.enter(WAIT_S, TimeUnit.SECONDS);
          boolean left = barrier.leave(WAIT_S, TimeUnit.SECONDS);
          return "entered " + entered + " left " + left;
        });
      }
      List<String> out = new ArrayList<>();
      for (Future<String> f : pool.invokeAll(members, WAIT_S * 3, TimeUnit.SECONDS)) out.add(f.get());
      pool.shutdown();
      return out;
    }
  }

  /** SimpleDistributedQueue: FIFO across sessions. */
  static Object queue() throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client(a)) {
      SimpleDistributedQueue qa = new SimpleDistributedQueue(a, "/queue");
      SimpleDistributedQueue qb = new SimpleDistributedQueue(b, "/queue");
      for (String s : List.of("one", "two", "three")) qa.offer(bytes(s));
      List<String> out = new ArrayList<>();
      for (int i = 0; i < 3; i++) out.add(text(qb.take()));
      out.add(String.valueOf(qb.poll()));
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<byte[]> waiting = pool.submit(() -> qb.poll(WAIT_S, TimeUnit.SECONDS));
      Thread.sleep(200);
      qa.offer(bytes("late"));
      out.add(text(waiting.get(WAIT_S, TimeUnit.SECONDS)));
      pool.shutdown();
      return out;
    }
  }

  /** Ephemerals: PersistentNode recreates its node; a closed session's ephemerals go. */
  static Object ephemerals() throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    try (CuratorFramework watcher = client()) {
      List<String> states = Collections.synchronizedList(new ArrayList<>());
      CuratorFramework owner = client(watcher, states);
      try (PersistentNode node = new PersistentNode(owner, CreateMode.EPHEMERAL, false, "/members/me", bytes("hello"))) {
        node.start();
        out.put("created", node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        watcher.checkExists().usingWatcher((Watcher) e -> events.add(e.getType() + " " + e.getPath())).forPath("/members/me");
        watcher.delete().forPath("/members/me");
        out.put("deleted", events.poll(WAIT_S, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        Stat back = null;
        while (back == null && System.nanoTime() < deadline) {
          back = watcher.checkExists().forPath("/members/me");
          if (back == null) Thread.sleep(20);
        }
        out.put("recreated_ephemeral", back != null && back.getEphemeralOwner() == owner.getZookeeperClient().getZooKeeper().getSessionId());
      }
      BlockingQueue<String> gone = new LinkedBlockingQueue<>();
      owner.create().forPath("/members/other", bytes(""));
      owner.create().withMode(CreateMode.EPHEMERAL).forPath("/members/eph", bytes(""));
      watcher.checkExists().usingWatcher((Watcher) e -> gone.add(e.getType() + " " + e.getPath())).forPath("/members/eph");
      owner.close();
      out.put("closed_session_ephemeral", gone.poll(WAIT_S, TimeUnit.SECONDS));
      out.put("members_left", sorted(watcher.getChildren().forPath("/members")));
      out.put("owner_states", new ArrayList<>(states));
    }
    return out;
  }

  /** getConfig: what a standalone server keeps in /zookeeper/config (Curator's EnsembleTracker reads it). */
  static Object config() throws Exception {
    try (CuratorFramework c = CuratorFrameworkFactory.builder().connectString(connect).retryPolicy(new ExponentialBackoffRetry(100, 10)).build()) {
      c.start();
      c.blockUntilConnected(WAIT_S, TimeUnit.SECONDS);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("config", text(c.getConfig().forEnsemble()));
      out.put("zookeeper_children", sorted(c.getChildren().forPath("/zookeeper")));
      out.put("connect_string_kept", c.getZookeeperClient().getCurrentConnectionString().equals(connect));
      return out;
    }
  }

  /**
   * Against an ensemble: two sessions hold a lock, a leader latch, an ephemeral node and a cache;
   * the program prints KILL_LEADER and waits for a line on stdin (the caller kills the leader),
   * then checks that both sessions reconnect (never LOST) with all of it intact.
   */
  static String reconfig_sid;
  static String reconfig_client;

  /**
   * Dynamic reconfiguration through Curator's builder and its EnsembleTracker (on by default: it
   * watches /zookeeper/config and moves the client's connection string to the members a reconfig
   * names). The follower given on the command line (not in the connect string, so that its
   * leaving does not drop this session) becomes an observer, leaves, and comes back a voter.
   */
  static Object reconfig() throws Exception {
    try (CuratorFramework c = CuratorFrameworkFactory.builder()
        .connectString(connect)
        .authorization("digest", bytes("super:test"))
        .retryPolicy(new ExponentialBackoffRetry(100, 10))
        .build()) {
      c.start();
      c.blockUntilConnected(WAIT_S, TimeUnit.SECONDS);
      Map<String, Object> out = new LinkedHashMap<>();
      String key = "server." + reconfig_sid + "=";
      String line = null;
      for (String l : text(c.getConfig().forEnsemble()).split("\n")) if (l.startsWith(key)) line = l;
      out.put("line_found", line != null && line.contains(":participant;"));
      out.put("demoted", roles(c.reconfig().joining(line.replace(":participant;", ":observer;")).forEnsemble()));
      out.put("removed", roles(c.reconfig().leaving(reconfig_sid).forEnsemble()));
      out.put("tracker_dropped_it", eventually(() -> !c.getZookeeperClient().getCurrentConnectionString().contains(reconfig_client)));
      out.put("back", roles(c.reconfig().joining(line).forEnsemble()));
      out.put("tracker_took_it_back", eventually(() -> c.getZookeeperClient().getCurrentConnectionString().contains(reconfig_client)));
      out.put("write_after", c.create().orSetData().forPath("/reconfigured", bytes("x")) != null);
      return out;
    }
  }

  /** "the moved server's role, voters N" of a config text. */
  static String roles(byte[] config) {
    String role = "absent";
    int voters = 0;
    for (String l : text(config).split("\n")) {
      if (l.contains(":participant")) voters++;
      if (l.startsWith("server." + reconfig_sid + "=")) role = l.contains(":observer") ? "observer" : "participant";
    }
    return role + ", voters " + voters;
  }

  interface Check {
    boolean holds() throws Exception;
  }

  /** Polls `check` for up to WAIT_S seconds. */
  static boolean eventually(Check check) throws Exception {
    long until = System.currentTimeMillis() + WAIT_S * 1000L;
    while (System.currentTimeMillis() < until) {
      if (check.holds()) return true;
      Thread.sleep(100);
    }
    return check.holds();
  }

  static Object failover() throws Exception {
    List<String> states_a = Collections.synchronizedList(new ArrayList<>());
    List<String> states_b = Collections.synchronizedList(new ArrayList<>());
    try (CuratorFramework a = start(builder("curator-" + UUID.randomUUID().toString().substring(0, 8)), states_a);
        CuratorFramework b = client(a, states_b)) {
      Map<String, Object> out = new LinkedHashMap<>();
      long session_a = a.getZookeeperClient().getZooKeeper().getSessionId();
      InterProcessMutex ma = new InterProcessMutex(a, "/lock");
      InterProcessMutex mb = new InterProcessMutex(b, "/lock");
      out.put("a_locks", ma.acquire(WAIT_S, TimeUnit.SECONDS));
      a.create().withMode(CreateMode.EPHEMERAL).forPath("/eph", bytes("a"));
      a.create().forPath("/cc");
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      CountDownLatch initialized = new CountDownLatch(1);
      try (CuratorCache cache = CuratorCache.build(b, "/cc"); LeaderLatch la = new LeaderLatch(a, "/leader", "a"); LeaderLatch lb = new LeaderLatch(b, "/leader", "b")) {
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates((n) -> events.add("created " + n.getPath()))
            .forInitialized(initialized::countDown)
            .build());
        cache.start();
        out.put("cache_initialized", initialized.await(WAIT_S, TimeUnit.SECONDS));
        events.clear();
        la.start();
        out.put("a_leads", la.await(WAIT_S, TimeUnit.SECONDS));
        lb.start();

        System.out.println("KILL_LEADER");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();

        out.put("a_reconnected", awaitState(states_a, "RECONNECTED"));
        out.put("b_reconnected", awaitState(states_b, "RECONNECTED"));
        out.put("a_same_session", a.getZookeeperClient().getZooKeeper().getSessionId() == session_a);
        out.put("a_still_locks", ma.isAcquiredInThisProcess() && a.getChildren().forPath("/lock").size() == 1);
        out.put("b_locks_meanwhile", mb.acquire(300, TimeUnit.MILLISECONDS));
        b.sync().forPath("/eph");
        Stat eph = b.checkExists().forPath("/eph");
        out.put("ephemeral_kept", eph != null && eph.getEphemeralOwner() == session_a);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!(la.hasLeadership() ^ lb.hasLeadership()) && System.nanoTime() < deadline) Thread.sleep(20);
        out.put("one_leader", la.hasLeadership() ^ lb.hasLeadership());
        out.put("latch_participants", lb.getParticipants().size());
        a.create().forPath("/cc/after", bytes(""));
        out.put("cache_after", events.poll(WAIT_S, TimeUnit.SECONDS));
        ma.release();
        out.put("b_locks_after_release", mb.acquire(WAIT_S, TimeUnit.SECONDS));
        mb.release();
      }
      out.put("a_states", distinctRuns(states_a));
      out.put("b_states", distinctRuns(states_b));
      List<String> hosts = Arrays.asList(a.getZookeeperClient().getCurrentConnectionString().split(","));
      List<String> given = Arrays.asList(connect.split(","));
      out.put("connect_string_hosts_kept", sorted(hosts).equals(sorted(given)));
      return out;
    }
  }

  /** Waits until `state` is among the recorded connection states. */
  static boolean awaitState(List<String> states, String state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S * 4);
    while (!states.contains(state) && System.nanoTime() < deadline) Thread.sleep(20);
    return states.contains(state);
  }

  /** The states with repeats in a row folded: CONNECTED, SUSPENDED, RECONNECTED. */
  static List<String> distinctRuns(List<String> states) {
    List<String> out = new ArrayList<>();
    synchronized (states) {
      for (String s : states) if (out.isEmpty() || !out.get(out.size() - 1).equals(s)) out.add(s);
    }
    return out;
  }

  // ---- helpers ----

  /** A started client in a fresh namespace of its own. */
  static CuratorFramework client() throws Exception {
    return start(builder("curator-" + UUID.randomUUID().toString().substring(0, 8)), null);
  }

  /** A second session in the namespace of `peer`. */
  static CuratorFramework client(CuratorFramework peer) throws Exception {
    return start(builder(peer.getNamespace()), null);
  }

  /** A second session in the namespace of `peer`, recording its connection states. */
  static CuratorFramework client(CuratorFramework peer, List<String> states) throws Exception {
    return start(builder(peer.getNamespace()), states);
  }

  static CuratorFrameworkFactory.Builder builder(String namespace) {
    return CuratorFrameworkFactory.builder().connectString(connect).namespace(namespace).sessionTimeoutMs(10_000).connectionTimeoutMs(10_000).retryPolicy(new ExponentialBackoffRetry(100, 10));
  }

  static CuratorFramework start(CuratorFrameworkFactory.Builder b, List<String> states) throws Exception {
    CuratorFramework c = b.build();
    if (states != null) c.getConnectionStateListenable().addListener((client, s) -> states.add(s.toString()));
    c.start();
    if (!c.blockUntilConnected(WAIT_S, TimeUnit.SECONDS)) throw new IllegalStateException("not connected within " + WAIT_S + " s");
    return c;
  }

  interface Action {
    Object run() throws Exception;
  }

  /** "ok" or the KeeperException code (or exception class) the action threw. */
  static String caught(Action a) {
    try {
      a.run();
      return "ok";
    } catch (KeeperException e) {
      return e.code().toString();
    } catch (Exception e) {
      return e.getClass().getSimpleName();
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
  }

  static List<String> sorted(List<String> l) {
    List<String> copy = new ArrayList<>(l);
    Collections.sort(copy);
    return copy;
  }

  static String json(Object o) {
    if (o == null) return "null";
    if (o instanceof Boolean || o instanceof Number) return o.toString();
    if (o instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder("{");
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (sb.length() > 1) sb.append(',');
        sb.append(json(String.valueOf(e.getKey()))).append(':').append(json(e.getValue()));
      }
      return sb.append('}').toString();
    }
    if (o instanceof List<?> l) {
      StringBuilder sb = new StringBuilder("[");
      for (Object x : l) {
        if (sb.length() > 1) sb.append(',');
        sb.append(json(x));
      }
      return sb.append(']').toString();
    }
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : o.toString().toCharArray()) {
      if (ch == '"' || ch == '\\') sb.append('\\').append(ch);
      else if (ch < 0x20) sb.append(String.format("\\u%04x", (int) ch));
      else sb.append(ch);
    }
    return sb.append('"').toString();
  }
}
