package io.arangopipe.server.faults;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.JarServer;
import io.arangopipe.server.faults.RunLoad.Ack;
import io.arangopipe.server.faults.RunLoad.Attempt;
import io.arangopipe.server.faults.RunLoad.Fixture;
import io.arangopipe.server.faults.RunLoad.Tally;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.GetRunResponse;
import io.arangopipe.v1.LineageDirection;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.SearchRunsRequest;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients with deadlines of 1-5 ms, under load, beside clients with normal deadlines.
 *
 * <p>On a store of {@code faults.tinyPreload} runs (default 600), {@code faults.tinyClients} clients (default 24)
 * each make {@code faults.tinyCalls} calls (default 60) with a deadline of 1-5 ms: LogRun (each with its own request id),
 * SearchRuns over every run with a metric filter and order, and GetLineage downstream of the dataset (every
 * run, its params and performance). At the same time 8 clients with normal deadlines make {@code
 * faults.normalCalls} rounds each (default 24): log a run, read it back, search their runs, and now and then
 * the two heavy reads, checking every answer.
 *
 * <p>The clients share {@link #CONNECTIONS} connections, four tiny clients and one or two normal ones on each,
 * as the calls of one application share its channel.
 *
 * <p>Expected: the tiny clients get only OK, DEADLINE_EXCEEDED or CANCELLED; the normal clients get only
 * correct answers; afterwards no handler is still running and the write queue is empty (the server's
 * Prometheus gauges {@code arangopipe_grpc_server_handlers_running}, {@code arangopipe_store_write_queue}),
 * the thread count is back near its level before the load, health is SERVING, no log line is at ERROR, the
 * server's own call metrics show no UNAVAILABLE or INTERNAL, and every LogRun a tiny client made is complete
 * or absent in the database file, never partial; retrying the unanswered ones completes them exactly once.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TinyDeadlinesIT {
  private static final String PREFIX = "t-";
  private static final int PRELOAD = Integer.getInteger("faults.tinyPreload", 600);
  private static final int TINY_CLIENTS = Integer.getInteger("faults.tinyClients", 24);
  private static final int TINY_CALLS = Integer.getInteger("faults.tinyCalls", 60);
  private static final int NORMAL_CLIENTS = 8;
  /** Bursts of cancelled calls in {@link #burstsOfCancelledCallsDoNotCostTheirNeighboursTheConnection}. */
  private static final int BURSTS = 6;
  /** Connections the tiny and normal clients share (4 tiny clients and 1-2 normal ones on each). */
  private static final int CONNECTIONS = 6;
  private static final int NORMAL_CALLS = Integer.getInteger("faults.normalCalls", 24);
  private static final Set<Status.Code> TINY_CODES =
      Set.of(Status.Code.OK, Status.Code.DEADLINE_EXCEEDED, Status.Code.CANCELLED);
  /** Threads that may come and go without being leaked work (JIT, GC, the metrics HTTP server, Netty). */
  private static final int THREAD_SLACK = 8;

  @TempDir Path tmp;
  private JarServer server;

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void tinyDeadlinesUnderLoadLeaveNoWorkBehindAndNoPartialWrites() throws Exception {
    long seed = Long.getLong("faults.seed", System.nanoTime());
    System.out.printf("TinyDeadlinesIT: seed=%d tiny clients=%d x %d calls, normal clients=%d x %d%n", seed,
        TINY_CLIENTS, TINY_CALLS, NORMAL_CLIENTS, NORMAL_CALLS);
    long t0 = System.nanoTime();
    Path data = Files.createDirectories(tmp.resolve("data"));
    server = JarServer.start("tiny", data, tmp, "--metrics-port", "0");
    JarServer s = server;
    try {
      Fixture fixture = RunLoad.register(s);
      Map<String, Ack> acked = new ConcurrentHashMap<>();
      List<String> preloadKeys = new ArrayList<>();
      for (int i = 0; i < PRELOAD; i++) {
        preloadKeys.add(PREFIX + "pre-" + i);
      }
      KillNineUnderLoadIT.parallel(s, preloadKeys, (channel, key) -> {
        int seq = Integer.parseInt(key.substring((PREFIX + "pre-").length()));
        Attempt a = new Attempt(key, 1000 + seq % 10, seq);
        acked.put(key, RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0))));
      });
      System.out.printf("TinyDeadlinesIT: %s done after %d s%n", "preload", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
      // Warm up every path with normal deadlines, then take the baseline.
      for (int i = 0; i < 3; i++) {
        heavyReads(s.channel, fixture, JarServer.CALL_DEADLINE.toMillis());
      }
      Map<String, Double> before = s.scrape();
      double threadsBefore = JarServer.sum(before, "jvm_threads_live_threads");

      Random seeds = new Random(seed);
      Map<String, Tally> tinyByMethod = new TreeMap<>();
      for (String m : List.of("LogRun", "SearchRuns", "GetLineage")) {
        tinyByMethod.put(m, new Tally());
      }
      ConcurrentLinkedQueue<Attempt> tinyUnacked = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      Tally normal = new Tally();
      // Tiny and normal clients share connections, as calls of one application share its channel: a
      // deadline that passes resets its HTTP/2 stream, and those resets must not cost the neighbours theirs.
      List<ManagedChannel> connections = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        connections.add(s.newChannel());
      }
      ExecutorService pool = Executors.newFixedThreadPool(TINY_CLIENTS + NORMAL_CLIENTS);
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < TINY_CLIENTS; c++) {
        int client = c;
        Random random = new Random(seeds.nextLong());
        ManagedChannel channel = connections.get(client % CONNECTIONS);
        futures.add(pool.submit(() -> {
          for (int i = 0; i < TINY_CALLS; i++) {
            long deadline = 1 + random.nextInt(5);
            String method = List.of("LogRun", "SearchRuns", "GetLineage").get(i % 3);
            Attempt a = new Attempt(PREFIX + "tiny-c" + client + "-" + i, client, i);
            try {
              switch (method) {
                case "LogRun" -> acked.put(a.runKey(), RunLoad.ack(a, TrackingServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadline, MILLISECONDS).logRun(RunLoad.request(a, fixture, 0))));
                case "SearchRuns" -> searchAll(channel, deadline);
                default -> lineage(channel, fixture, deadline);
              }
              tinyByMethod.get(method).add(Status.Code.OK);
            } catch (StatusRuntimeException e) {
              Status.Code code = e.getStatus().getCode();
              tinyByMethod.get(method).add(code);
              if (!TINY_CODES.contains(code)) {
                problems.add(method + " with a " + deadline + " ms deadline: " + e.getStatus());
              }
              if (method.equals("LogRun")) {
                tinyUnacked.add(a);
              }
            }
          }
          return null;
        }));
      }
      for (int c = 0; c < NORMAL_CLIENTS; c++) {
        int client = 500 + c;
        ManagedChannel channel = connections.get(c % CONNECTIONS);
        futures.add(pool.submit(() -> {
          for (int i = 0; i < NORMAL_CALLS; i++) {
            Attempt a = new Attempt(PREFIX + "normal-c" + client + "-" + i, client, i);
            try {
              Ack ack = RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0)));
              acked.put(a.runKey(), ack);
              GetRunResponse r = JarServer.tracking(channel).getRun(GetRunRequest.newBuilder()
                  .setRunId(a.runKey()).build());
              assertThat(r.getModelParams().getId()).isEqualTo(ack.modelParamsId());
              assertThat(r.getDevPerf().getId()).isEqualTo(ack.devPerfId());
              int mine = LineageServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(JarServer.CALL_DEADLINE.toMillis(), MILLISECONDS)
                  .searchRuns(SearchRunsRequest.newBuilder().setProject(RunLoad.PROJECT)
                      .setFilter("tag = 'client-" + client + "'").setPageSize(1000).build()).getRunsCount();
              assertThat(mine).as("runs of normal client %d after %d", client, i).isEqualTo(i + 1);
              if (i % 6 == 0) {
                heavyReads(channel, fixture, JarServer.CALL_DEADLINE.toMillis());
              }
              normal.add(Status.Code.OK);
            } catch (StatusRuntimeException e) {
              normal.add(e.getStatus().getCode());
              problems.add("normal client " + client + ": " + e.getStatus());
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(8, TimeUnit.MINUTES);
      }
      pool.shutdownNow();
      System.out.printf("TinyDeadlinesIT: %s done after %d s%n", "load", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
      tinyByMethod.forEach((m, t) -> System.out.printf("TinyDeadlinesIT: tiny %s: %s%n", m, t));
      System.out.printf("TinyDeadlinesIT: normal clients: %s%n", normal);
      assertThat(problems).as("unexpected statuses").isEmpty();

      // No work left behind: handlers, write queue, threads (each waited for, with a generous bound).
      Map<String, Double> after = awaitMetrics(s, m ->
          JarServer.sum(m, "arangopipe_grpc_server_handlers_running") == 0
              && JarServer.sum(m, "arangopipe_store_write_queue") == 0
              && JarServer.sum(m, "jvm_threads_live_threads") <= threadsBefore + THREAD_SLACK);
      System.out.printf("TinyDeadlinesIT: threads before %.0f, after %.0f; handlers running %.0f; write queue %.0f%n",
          threadsBefore, JarServer.sum(after, "jvm_threads_live_threads"),
          JarServer.sum(after, "arangopipe_grpc_server_handlers_running"),
          JarServer.sum(after, "arangopipe_store_write_queue"));
      assertThat(JarServer.sum(after, "arangopipe_grpc_server_handlers_running")).as("handlers running").isZero();
      assertThat(JarServer.sum(after, "arangopipe_store_write_queue")).as("writes queued").isZero();
      assertThat(JarServer.sum(after, "jvm_threads_live_threads")).as("live threads after the load")
          .isLessThanOrEqualTo(threadsBefore + THREAD_SLACK);

      // How the server itself ended the calls.
      Map<String, Double> serverCodes = new TreeMap<>();
      for (String code : List.of("OK", "DEADLINE_EXCEEDED", "CANCELLED", "UNAVAILABLE", "INTERNAL", "UNKNOWN")) {
        serverCodes.put(code, JarServer.sum(after, "arangopipe_grpc_server_calls_seconds_count",
            "code=\"" + code + "\""));
      }
      System.out.printf("TinyDeadlinesIT: server-side call metrics by code: %s%n", serverCodes);
      for (String method : List.of("TrackingService/LogRun", "LineageService/SearchRuns", "LineageService/GetLineage")) {
        Map<String, Double> byCode = new TreeMap<>();
        for (String code : List.of("OK", "DEADLINE_EXCEEDED", "CANCELLED", "UNAVAILABLE")) {
          byCode.put(code, JarServer.sum(after, "arangopipe_grpc_server_calls_seconds_count",
              "code=\"" + code + "\"", "method=\"arangopipe.v1." + method + "\"")
              - JarServer.sum(before, "arangopipe_grpc_server_calls_seconds_count",
              "code=\"" + code + "\"", "method=\"arangopipe.v1." + method + "\""));
        }
        System.out.printf("TinyDeadlinesIT: server-side, during the load, %s: %s%n", method, byCode);
      }
      assertThat(serverCodes.get("INTERNAL") + serverCodes.get("UNKNOWN")).as("INTERNAL/UNKNOWN").isZero();
      assertThat(serverCodes.get("UNAVAILABLE")).as("calls the server reported as UNAVAILABLE").isZero();

      s.assertServing("after the load");
      System.out.printf("TinyDeadlinesIT: %s done after %d s%n", "checks", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
      assertThat(s.errorLines()).as("ERROR lines in the server log").isEmpty();

      // Every LogRun of a tiny client is complete or absent; retrying the unanswered ones completes them once.
      List<String> unackedKeys = tinyUnacked.stream().map(Attempt::runKey).toList();
      RunLoad.Reconciliation r;
      try (StoreFile db = StoreFile.openReadOnly(data)) {
        r = RunLoad.reconcile(db, PREFIX, acked, unackedKeys);
      }
      r.assertClean("after the tiny-deadline load");
      System.out.printf("TinyDeadlinesIT: LogRun with tiny deadlines: %d acknowledged, %d unanswered of which"
              + " %d complete and %d absent; lost %d, partial %d%n",
          tinyByMethod.get("LogRun").get("OK"), unackedKeys.size(), r.unacknowledgedComplete(),
          r.unacknowledgedAbsent(), r.lost().size(), r.partial().size() + r.orphanCount());
      Map<String, Attempt> byKey = new HashMap<>();
      tinyUnacked.forEach(a -> byKey.put(a.runKey(), a));
      KillNineUnderLoadIT.parallel(s, unackedKeys, (channel, key) -> {
        Attempt a = byKey.get(key);
        acked.put(key, RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, 0))));
      });
      s.stop();
      try (StoreFile db = StoreFile.openReadOnly(data)) {
        assertThat(db.integrityCheck()).isEqualTo("ok");
        RunLoad.reconcile(db, PREFIX, acked, List.of()).assertClean("after the retries");
      }
    } catch (Throwable t) {
      System.out.println("---- server log tail ----\n" + s.tail());
      throw t;
    }
  }

  /**
   * Every call a client cancels, or whose deadline passes, resets its HTTP/2 stream (RST_STREAM). The server
   * limits resets per connection against the HTTP/2 "rapid reset" attack; the limit must not be so low that
   * a burst of ordinary cancellations gets the connection closed, failing the calls in flight beside them.
   * Here: {@link #BURSTS} bursts on one connection of 89 calls cancelled right after they start, each beside
   * one normal call that must succeed.
   */
  @Test
  void burstsOfCancelledCallsDoNotCostTheirNeighboursTheConnection() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    server = JarServer.start("bursts", data, tmp, "--metrics-port", "0");
    JarServer s = server;
    try {
      Fixture fixture = RunLoad.register(s);
      for (int i = 0; i < 50; i++) {
        Attempt a = new Attempt(PREFIX + "burst-" + i, 1, i);
        RunLoad.ack(a, s.tracking().logRun(RunLoad.request(a, fixture, 0)));
      }
      ManagedChannel channel = s.newChannel();
      GetLineageRequest request = GetLineageRequest.newBuilder().setStartId(fixture.datasetId())
          .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(5).build();
      Tally normal = new Tally();
      long resets = 0;
      for (int burst = 0; burst < BURSTS; burst++) {
        java.util.concurrent.CompletableFuture<io.arangopipe.v1.GetLineageResponse> neighbour =
            new java.util.concurrent.CompletableFuture<>();
        io.grpc.stub.ClientCalls.asyncUnaryCall(channel.newCall(LineageServiceGrpc.getGetLineageMethod(),
            io.grpc.CallOptions.DEFAULT.withDeadlineAfter(JarServer.CALL_DEADLINE.toMillis(), MILLISECONDS)),
            request, new io.grpc.stub.StreamObserver<>() {
              @Override
              public void onNext(io.arangopipe.v1.GetLineageResponse r) {
                neighbour.complete(r);
              }

              @Override
              public void onError(Throwable t) {
                neighbour.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
        List<io.grpc.ClientCall<GetLineageRequest, io.arangopipe.v1.GetLineageResponse>> cancelled = new ArrayList<>();
        for (int i = 0; i < 89; i++) {
          io.grpc.ClientCall<GetLineageRequest, io.arangopipe.v1.GetLineageResponse> call = channel.newCall(
              LineageServiceGrpc.getGetLineageMethod(), io.grpc.CallOptions.DEFAULT);
          io.grpc.stub.ClientCalls.asyncUnaryCall(call, request, new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(io.arangopipe.v1.GetLineageResponse r) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          });
          cancelled.add(call);
        }
        for (io.grpc.ClientCall<?, ?> call : cancelled) {
          call.cancel("the client gave up", null);
          resets++;
        }
        try {
          assertThat(neighbour.get(2 * JarServer.CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS).getNodesCount())
              .isGreaterThan(50);
          normal.add(Status.Code.OK);
        } catch (java.util.concurrent.ExecutionException e) {
          normal.add(Status.fromThrowable(e.getCause()).getCode());
          System.out.printf("TinyDeadlinesIT: the normal call beside burst %d failed: %s%n", burst,
              Status.fromThrowable(e.getCause()));
        }
      }
      System.out.printf("TinyDeadlinesIT: %d cancelled calls in %d bursts on one connection; the normal call beside"
          + " each burst: %s%n", resets, BURSTS, normal);
      assertThat(normal.get("OK")).as("normal calls that succeeded beside the bursts").isEqualTo(BURSTS);
      s.assertServing("after the bursts");
      assertThat(s.errorLines()).as("ERROR lines in the server log").isEmpty();
    } catch (Throwable t) {
      System.out.println("---- server log tail ----\n" + s.tail());
      throw t;
    }
  }

  private static void searchAll(ManagedChannel channel, long deadlineMillis) {
    LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, MILLISECONDS)
        .searchRuns(SearchRunsRequest.newBuilder().setProject(RunLoad.PROJECT)
            .setFilter("devperf.rmse < 100 AND modelparams.alpha >= 0").setOrderBy("devperf.rmse DESC")
            .setPageSize(1000).build());
  }

  private static void lineage(ManagedChannel channel, Fixture fixture, long deadlineMillis) {
    LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, MILLISECONDS)
        .getLineage(GetLineageRequest.newBuilder().setStartId(fixture.datasetId())
            .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(5).setMaxNodes(10_000).build());
  }

  /** The two heavy reads with a normal deadline, checking their answers. */
  private static void heavyReads(ManagedChannel channel, Fixture fixture, long deadlineMillis) {
    assertThat(LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, MILLISECONDS)
        .searchRuns(SearchRunsRequest.newBuilder().setProject(RunLoad.PROJECT).setFilter("tag = 'client-1000'")
            .setPageSize(1000).build()).getRunsCount()).isEqualTo((PRELOAD + 9) / 10);
    searchAll(channel, deadlineMillis);
    assertThat(LineageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, MILLISECONDS)
        .getLineage(GetLineageRequest.newBuilder().setStartId(fixture.datasetId())
            .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(5).setMaxNodes(10_000).build())
        .getNodesCount()).isGreaterThan(PRELOAD);
  }

  /** Scrapes until the condition holds (or 2 minutes pass); the last scrape. */
  private static Map<String, Double> awaitMetrics(JarServer s, java.util.function.Predicate<Map<String, Double>> ok)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    Map<String, Double> m = s.scrape();
    while (!ok.test(m) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      m = s.scrape();
    }
    return m;
  }
}
