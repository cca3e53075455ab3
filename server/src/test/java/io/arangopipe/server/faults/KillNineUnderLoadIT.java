package io.arangopipe.server.faults;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.JarServer;
import io.arangopipe.server.faults.RunLoad.Ack;
import io.arangopipe.server.faults.RunLoad.Attempt;
import io.arangopipe.server.faults.RunLoad.Fixture;
import io.arangopipe.server.faults.RunLoad.Reconciliation;
import io.arangopipe.server.faults.RunLoad.Tally;
import io.arangopipe.v1.LogRunResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at random moments under a concurrent LogRun load, then a restart on the same data folder and
 * the reconciliation of every acknowledged {@code request_id} against the database file.
 *
 * <p>Each cycle: {@code faults.clients} clients (default 32, each on its own connection) log runs, every call
 * with its own run id and request id. After a random number of acknowledgements and a random pause the
 * server gets SIGKILL. With the server dead, the database file is opened read-only: {@code PRAGMA
 * integrity_check} must say ok; every acknowledged run of every cycle so far is there, complete, with the ids
 * its acknowledgement named (lost = 0); no run is partial and no model params, dev performance, edge or
 * request record is an orphan (partial = 0); an unacknowledged run is complete or absent. Then the server
 * restarts on the folder: retrying every acknowledged request id returns the same ids and adds no row to any
 * table; retrying every unacknowledged one completes it.
 *
 * <p>{@code -Dfaults.killCycles=N} (default 3) and {@code -Dfaults.seed=S} (printed; random otherwise) give
 * longer or repeated runs; docs/reliability.md has the counts.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class KillNineUnderLoadIT {
  private static final String PREFIX = "k";
  private static final int CLIENTS = Integer.getInteger("faults.clients", 32);
  private static final int CYCLES = Integer.getInteger("faults.killCycles", 3);
  private static final long LOAD_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(3);

  @TempDir Path tmp;
  private final List<JarServer> servers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    servers.forEach(JarServer::close);
  }

  @Test
  void acknowledgedRunsSurviveKillDashNineUnderConcurrentLoad() throws Exception {
    long seed = Long.getLong("faults.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("KillNineUnderLoadIT: seed=%d clients=%d cycles=%d%n", seed, CLIENTS, CYCLES);
    Path data = Files.createDirectories(tmp.resolve("data"));
    JarServer server = start(data, 1);
    Fixture fixture = RunLoad.register(server);
    Map<String, Ack> acknowledged = new HashMap<>(); // every cycle's, including completed retries
    List<String> table = new ArrayList<>();
    try {
      for (int cycle = 1; cycle <= CYCLES; cycle++) {
        int killAfterAcks = 1 + random.nextInt(600);
        long pauseMillis = random.nextInt(250);
        Cycle c = loadAndKill(server, fixture, cycle, killAfterAcks, pauseMillis);

        // The database as the kill left it, before any server touches it again.
        Reconciliation r;
        Map<String, Ack> all = new HashMap<>(acknowledged);
        all.putAll(c.acked);
        try (StoreFile db = StoreFile.openReadOnly(data)) {
          assertThat(db.integrityCheck()).as("PRAGMA integrity_check after kill %d", cycle).isEqualTo("ok");
          r = RunLoad.reconcile(db, PREFIX, all, c.unacknowledged());
        }
        r.assertClean("after kill -9 number " + cycle);
        String row = String.format("| %d | %d ms after ack %d | %d | %d | %d | %d | %d | %d | %d | %s |", cycle,
            pauseMillis, killAfterAcks, c.attempted.size(), c.acked.size(), r.unacknowledgedComplete(),
            r.unacknowledgedAbsent(), r.lost().size(), r.partial().size() + r.orphanCount(),
            all.size(), c.afterKill);
        table.add(row);
        System.out.println("KillNineUnderLoadIT " + row);

        server = start(data, cycle + 1);
        retryAcknowledged(server, data, fixture, c);
        acknowledged.putAll(c.acked);
        acknowledged.putAll(retryUnacknowledged(server, fixture, c));
        try (StoreFile db = StoreFile.openReadOnly(data)) {
          RunLoad.reconcile(db, PREFIX, acknowledged, List.of()).assertClean("after the retries of cycle " + cycle);
        }
      }
      for (JarServer s : servers) {
        assertThat(s.errorLines()).as("ERROR lines of server %s", s.name).isEmpty();
      }
      server.stop();
      try (StoreFile db = StoreFile.openReadOnly(data)) {
        assertThat(db.integrityCheck()).as("PRAGMA integrity_check at the end").isEqualTo("ok");
      }
    } catch (Throwable t) {
      servers.forEach(s -> System.out.println("---- server " + s.name + " log tail ----\n" + s.tail()));
      throw t;
    } finally {
      System.out.println("KillNineUnderLoadIT: | cycle | kill moment | attempted | acknowledged"
          + " | unacknowledged, complete | unacknowledged, absent | lost | partial | acknowledged so far"
          + " | statuses after the kill |");
      table.forEach(System.out::println);
    }
  }

  private JarServer start(Path data, int n) throws Exception {
    JarServer s = JarServer.start("kill-" + n, data, tmp);
    servers.add(s);
    return s;
  }

  private record Cycle(List<Attempt> attempted, Map<String, Ack> acked, Tally afterKill) {
    List<String> unacknowledged() {
      return attempted.stream().map(Attempt::runKey).filter(k -> !acked.containsKey(k)).toList();
    }
  }

  /**
   * {@link #CLIENTS} clients log runs until the server dies; the server gets SIGKILL {@code pauseMillis}
   * after the {@code killAfterAcks}-th acknowledgement. Every call before the kill must succeed.
   */
  private Cycle loadAndKill(JarServer s, Fixture fixture, int cycle, int killAfterAcks, long pauseMillis)
      throws Exception {
    ConcurrentLinkedQueue<Attempt> attempted = new ConcurrentLinkedQueue<>();
    Map<String, Ack> acked = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
    Tally afterKill = new Tally();
    AtomicBoolean killing = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        int client = i;
        ManagedChannel channel = s.newChannel();
        clients.add(pool.submit(() -> {
          for (int seq = 0; ; seq++) {
            Attempt a = new Attempt(PREFIX + cycle + "-c" + client + "-" + seq, client, seq);
            attempted.add(a);
            try {
              LogRunResponse r = JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0));
              acked.put(a.runKey(), RunLoad.ack(a, r));
            } catch (StatusRuntimeException e) {
              if (killing.get()) {
                afterKill.add(e.getStatus().getCode());
              } else {
                unexpected.add(a.runKey() + ": " + e.getStatus());
              }
              return;
            } catch (RuntimeException | AssertionError e) {
              unexpected.add(a.runKey() + ": " + e);
              return;
            }
          }
        }));
      }
      long deadline = System.nanoTime() + LOAD_TIMEOUT_NANOS;
      while (acked.size() < killAfterAcks && unexpected.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertThat(unexpected).as("calls that failed before the kill").isEmpty();
      assertThat(acked.size()).as("acknowledgements before the kill (bounded wait)").isGreaterThanOrEqualTo(
          killAfterAcks);
      Thread.sleep(pauseMillis);
      killing.set(true);
      s.kill9();
      for (Future<?> f : clients) {
        f.get(2 * JarServer.CALL_DEADLINE.toSeconds(), SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(unexpected).as("calls that failed unexpectedly").isEmpty();
    return new Cycle(List.copyOf(attempted), Map.copyOf(acked), afterKill);
  }

  /**
   * Retrying every acknowledged request id returns the acknowledged ids and adds no row to any table (counted
   * in the file, before and after).
   */
  private static void retryAcknowledged(JarServer s, Path data, Fixture fixture, Cycle c) throws Exception {
    Map<String, Long> before;
    try (StoreFile db = StoreFile.openReadOnly(data)) {
      before = db.tableCounts();
    }
    Map<String, Attempt> byKey = new HashMap<>();
    c.attempted.forEach(a -> byKey.put(a.runKey(), a));
    parallel(s, new ArrayList<>(c.acked.keySet()), (channel, key) -> {
      Attempt a = byKey.get(key);
      Ack again = RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0)));
      assertThat(again).as("retry of acknowledged %s", key).isEqualTo(c.acked.get(key));
    });
    try (StoreFile db = StoreFile.openReadOnly(data)) {
      assertThat(db.tableCounts()).as("rows after retrying %d acknowledged request ids", c.acked.size())
          .isEqualTo(before);
    }
  }

  /** A client that got no answer retries with the same request id; afterwards its run is acknowledged. */
  private static Map<String, Ack> retryUnacknowledged(JarServer s, Fixture fixture, Cycle c) throws Exception {
    Map<String, Attempt> byKey = new HashMap<>();
    c.attempted.forEach(a -> byKey.put(a.runKey(), a));
    Map<String, Ack> out = new ConcurrentHashMap<>();
    parallel(s, c.unacknowledged(), (channel, key) -> {
      Attempt a = byKey.get(key);
      out.put(key, RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0))));
    });
    return out;
  }

  interface Call {
    void run(ManagedChannel channel, String key) throws Exception;
  }

  /** Runs the call for every key on 8 threads, each with its own connection; rethrows the first failure. */
  static void parallel(JarServer s, List<String> keys, Call call) throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        ManagedChannel channel = s.newChannel();
        futures.add(pool.submit(() -> {
          for (int i = first; i < keys.size(); i += threads) {
            call.run(channel, keys.get(i));
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
