package io.arangopipe.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.GetEntityRequest;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.LookupEntityRequest;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RegisterFeaturesetRequest;
import io.arangopipe.v1.RegisterModelRequest;
import io.arangopipe.v1.RunStatus;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.arangopipe.v1.TrackingServiceGrpc.TrackingServiceBlockingStub;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Issue 9's LogRun benchmark: LogRun (a run with its params and dev performance and its model, dataset and
 * featureset links, in one atomic, durable write) against the real server over loopback at several
 * concurrencies, with lookups by name and by id, and in the same run the transport ceiling (a no-op RPC of
 * the same size on the same server), the storage ceiling (the same rows straight into SQLite with the same
 * durability and grouping) and, when a URL is given, the MLflow tracking server doing the same work through
 * the same kind of load generator. See docs/benchmarks.md and benchmarks/run-logrun.sh.
 */
public final class LogRunBenchmark {

  record Options(List<Integer> concurrency, int warmupSeconds, int seconds, int lookupSeconds, Path serverJar,
      Path benchJar, String mlflow, Path out, List<String> serverArgs, String serverJvm, List<String> cases,
      boolean keepData) {

    static Options parse(String[] args) {
      List<Integer> conc = List.of(1, 8, 32, 128);
      int warmup = 3;
      int seconds = 10;
      int lookup = 5;
      Path serverJar = Paths.get("server/target/arangopipe-server.jar");
      Path benchJar = Paths.get("benchmarks/target/arangopipe-benchmarks.jar");
      String mlflow = null;
      Path out = Paths.get("benchmarks/target/logrun-results.md");
      List<String> serverArgs = new ArrayList<>();
      String serverJvm = "-Xms512m -Xmx1g -XX:+UseParallelGC";
      List<String> cases = List.of("logrun", "logrun-auto", "echo", "storage", "mlflow", "lookups");
      boolean keepData = false;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--concurrency" -> conc = Arrays.stream(args[++i].split(",")).map(String::trim).map(Integer::valueOf)
              .toList();
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--seconds" -> seconds = Integer.parseInt(args[++i]);
          case "--lookup-seconds" -> lookup = Integer.parseInt(args[++i]);
          case "--server-jar" -> serverJar = Paths.get(args[++i]);
          case "--bench-jar" -> benchJar = Paths.get(args[++i]);
          case "--mlflow" -> mlflow = args[++i];
          case "--out" -> out = Paths.get(args[++i]);
          case "--server-arg" -> serverArgs.add(args[++i]);
          case "--server-jvm" -> serverJvm = args[++i];
          case "--cases" -> cases = Arrays.asList(args[++i].split(","));
          case "--keep-data" -> keepData = true;
          case "--help", "-h" -> {
            usage(System.out);
            System.exit(0);
          }
          default -> {
            System.err.println("unknown option " + a);
            usage(System.err);
            System.exit(2);
          }
        }
      }
      return new Options(conc, warmup, seconds, lookup, serverJar, benchJar, mlflow, out, serverArgs, serverJvm,
          cases, keepData);
    }

    static void usage(PrintStream o) {
      o.println("""
          LogRunBenchmark [options]
            --concurrency 1,8,32,128   client concurrencies (calls in flight)
            --warmup 3                 seconds of warm-up per case (not measured)
            --seconds 10               measured seconds per LogRun / echo / storage / MLflow case
            --lookup-seconds 5         measured seconds per lookup case
            --server-jar PATH          the server's self-contained jar (server/target/arangopipe-server.jar)
            --bench-jar PATH           this module's jar (benchmarks/target/arangopipe-benchmarks.jar)
            --server-arg ARG           one more server flag (repeat), e.g. --server-arg --threads=64
            --server-jvm "OPTS"        the server JVM's options (-Xms512m -Xmx1g -XX:+UseParallelGC)
            --mlflow URL               an MLflow tracking server to compare with (e.g. http://127.0.0.1:5000)
            --out PATH                 the results table (benchmarks/target/logrun-results.md)
            --keep-data                keep the server's log and data folder and the storage ceiling's
                                       databases (deleted after a run that completes; a run can write
                                       gigabytes)
            --cases LIST               logrun,logrun-auto,echo,storage,mlflow,lookups (all); lookups need
                                       logrun. logrun: the client names each run (run_id "r<nonce>-<phase>-
                                       <thread>-<n>"); logrun-auto: the same LogRun without a run_id, so
                                       the server assigns one (a time-ordered ULID)""");
    }
  }

  /** One measured case. */
  record Result(String kase, int concurrency, long calls, double seconds, Latencies lat,
      Map<String, Long> errors, double serverCpuMsPerCall, double clientCpuMsPerCall, String load) {
    double rate() {
      return calls / seconds;
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** A call made by one client thread; {@code n} counts that thread's calls. */
  @FunctionalInterface
  interface Call {
    void run(int thread, long n) throws Exception;
  }

  private static final String NONCE = Long.toString(System.currentTimeMillis(), 36);

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    Path tmp = Files.createTempDirectory("arangopipe-logrun");
    List<Result> results = new ArrayList<>();
    Process server = startServer(o, tmp);
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      int port = Integer.parseInt(Files.readString(tmp.resolve("port")).trim());
      for (int i = 0; i < 16; i++) {
        // Answers are handled on the transport's threads: the load generator shares the machine's two
        // cores with the server, so it should spend as little as it can on handing calls between threads.
        channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build());
      }
      Fixture f = setUp(channels.get(0));
      HttpClient http = o.mlflow() == null ? null : HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10)).build();
      String experiment = http == null ? null : mlflowExperiment(http, o.mlflow());
      byte[] echoBytes = logRun(f, "echo", 0, 0).toByteArray();
      System.out.printf("LogRun request %d bytes; %s; results in %s%n", echoBytes.length,
          o.mlflow() == null ? "no MLflow" : "MLflow at " + o.mlflow(), o.out());
      for (int c : o.concurrency()) {
        List<ManagedChannel> ch = channels.subList(0, Math.min(channels.size(), (c + 7) / 8));
        List<List<String>> runIds = new ArrayList<>();
        for (int t = 0; t < c; t++) {
          runIds.add(new ArrayList<>());
        }
        if (o.cases().contains("logrun")) {
          results.add(progress(measureAsync(LOGRUN, c, o.warmupSeconds(), o.seconds(), server, (t, n) -> {
            LogRunRequest req = logRun(f, "c" + c, t, n);
            List<String> mine = runIds.get(t);
            if (mine.size() < 1000) {
              mine.add(req.getRunId());
            }
            return futureStub(ch, t).logRun(req);
          })));
        }
        if (o.cases().contains("logrun-auto")) {
          results.add(progress(measureAsync(LOGRUN_AUTO, c, o.warmupSeconds(), o.seconds(), server,
              (t, n) -> futureStub(ch, t).logRun(logRun(f, "a" + c, t, n).toBuilder().clearRunId().build()))));
        }
        if (o.cases().contains("echo")) {
          results.add(progress(measureAsync("echo (transport ceiling)", c, o.warmupSeconds(), o.seconds(), server,
              (t, n) -> ClientCalls.futureUnaryCall(ch.get(t % ch.size()).newCall(EchoService.ECHO,
                  CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)), echoBytes))));
        }
        if (o.cases().contains("storage")) {
          results.add(progress(storage(c, o.seconds(), tmp.resolve("storage-" + c))));
        }
        if (http != null && o.cases().contains("mlflow")) {
          results.add(progress(measure("MLflow (create + log-batch)", c, o.warmupSeconds(), o.seconds(), null,
              (t, n) -> mlflowRun(http, o.mlflow(), experiment, t, n))));
        }
        List<String> ids = runIds.stream().flatMap(List::stream).toList();
        if (ids.isEmpty() || !o.cases().contains("lookups")) {
          continue;
        }
        Random pick = new Random(42);
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
          sample.add(ids.get(pick.nextInt(ids.size())));
        }
        results.add(progress(measureAsync("LookupEntity (model by name)", c, 1, o.lookupSeconds(), server,
            (t, n) -> futureStub(ch, t).lookupEntity(LookupEntityRequest.newBuilder().setCollection("models")
                .setName(f.modelNames.get((int) ((n * 31 + t) % f.modelNames.size()))).setProject("bench").build()))));
        results.add(progress(measureAsync("GetEntity (run by id)", c, 1, o.lookupSeconds(), server,
            (t, n) -> futureStub(ch, t).getEntity(GetEntityRequest.newBuilder()
                .setId("run/" + sample.get((int) ((n * 31 + t) % sample.size()))).build()))));
        results.add(progress(measureAsync("GetRun (by run_id)", c, 1, o.lookupSeconds(), server,
            (t, n) -> futureStub(ch, t).getRun(GetRunRequest.newBuilder()
                .setRunId(sample.get((int) ((n * 31 + t) % sample.size()))).build()))));
      }
    } finally {
      for (ManagedChannel ch : channels) {
        ch.shutdownNow();
      }
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
    String table = table(results);
    System.out.println();
    System.out.println(table);
    Files.createDirectories(o.out().toAbsolutePath().getParent());
    Files.writeString(o.out(), table);
    if (o.keepData()) {
      System.out.println("server log and data: " + tmp);
    } else {
      try (java.util.stream.Stream<Path> all = Files.walk(tmp)) {
        for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
      System.out.println("server log and data deleted (--keep-data keeps them)");
    }
  }

  // ---- the server and its data -----------------------------------------------------------------

  private static Process startServer(Options o, Path tmp) throws IOException, InterruptedException {
    for (Path p : List.of(o.serverJar(), o.benchJar())) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalStateException("no jar at " + p.toAbsolutePath() + ": build first (mvn -B -q -pl benchmarks"
            + " -am package -DskipTests) or run benchmarks/run-logrun.sh");
      }
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Arrays.asList(o.serverJvm().trim().split("\\s+")));
    if (o.cases().contains("echo")) {
      cmd.addAll(List.of("-cp", o.serverJar() + ":" + o.benchJar(), "io.arangopipe.bench.BenchServer"));
    } else { // the server jar as users run it (works with older builds too)
      cmd.addAll(List.of("-jar", o.serverJar().toString()));
    }
    cmd.addAll(List.of("--port", "0", "--port-file", tmp.resolve("port").toString(), "--data-dir", tmp.resolve("data").toString()));
    cmd.addAll(o.serverArgs());
    System.out.println("starting: " + String.join(" ", cmd));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("server.log").toFile())
        .start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(tmp.resolve("port"))) {
      if (!p.isAlive() || System.nanoTime() - end > 0) {
        p.destroyForcibly();
        throw new IllegalStateException("the server did not start; see " + tmp.resolve("server.log"));
      }
      Thread.sleep(50);
    }
    return p;
  }

  record Fixture(String dataset, String featureset, List<String> modelIds, List<String> modelNames) {}

  private static Fixture setUp(ManagedChannel ch) {
    AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(ch);
    TrackingServiceBlockingStub t = TrackingServiceGrpc.newBlockingStub(ch);
    admin.createProject(CreateProjectRequest.newBuilder().setName("bench").build());
    String ds = t.registerDataset(RegisterDatasetRequest.newBuilder().setName("housing").setProject("bench")
        .setDocument(struct("source", "s3://ml-data/housing.parquet", "rows", 19870)).build()).getDataset().getId();
    String fs = t.registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName("housing-log").setProject("bench")
        .setDatasetId(ds).setDocument(struct("transform", "log1p")).build()).getFeatureset().getId();
    List<String> ids = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      String name = String.format("model-%03d", i);
      names.add(name);
      ids.add(t.registerModel(RegisterModelRequest.newBuilder().setName(name).setProject("bench")
          .setDocument(struct("type", "regression", "estimator", "Lasso")).build()).getModel().getId());
    }
    return new Fixture(ds, fs, ids, names);
  }

  /** A LogRun like the README's: unique run_id, 4 params, 3 metrics, a property, three links. */
  static LogRunRequest logRun(Fixture f, String phase, int thread, long n) {
    long now = System.currentTimeMillis();
    return LogRunRequest.newBuilder()
        .setRunId("r" + NONCE + "-" + phase + "-" + thread + "-" + n)
        .setProject("bench")
        .setTag("bench-sweep")
        .setStartTime(Timestamp.newBuilder().setSeconds(now / 1000 - 270))
        .setEndTime(Timestamp.newBuilder().setSeconds(now / 1000))
        .setStatus(RunStatus.RUN_STATUS_COMPLETED)
        .setModelId(f.modelIds().get((int) ((n + thread) % f.modelIds().size())))
        .setDatasetId(f.dataset())
        .setFeaturesetId(f.featureset())
        .setModelParams(struct("alpha", 0.001, "max_iter", 1000, "l1_ratio", 0.5, "max_depth", 6))
        .setDevPerf(struct("rmse", 0.31, "r2", 0.81, "mae", 0.22))
        .setProperties(struct("git_commit", "4f2a9c1"))
        .build();
  }

  private static Struct struct(Object... kv) {
    Struct.Builder b = Struct.newBuilder();
    for (int i = 0; i < kv.length; i += 2) {
      Object v = kv[i + 1];
      b.putFields((String) kv[i], v instanceof String s ? Value.newBuilder().setStringValue(s).build()
          : Value.newBuilder().setNumberValue(((Number) v).doubleValue()).build());
    }
    return b.build();
  }

  private static TrackingServiceGrpc.TrackingServiceFutureStub futureStub(List<ManagedChannel> ch, int slot) {
    return TrackingServiceGrpc.newFutureStub(ch.get(slot % ch.size())).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  // ---- MLflow ----------------------------------------------------------------------------------

  private static String mlflowExperiment(HttpClient http, String base) throws Exception {
    String body = post(http, base, "/api/2.0/mlflow/experiments/create", "{\"name\":\"bench-" + NONCE + "\"}");
    int i = body.indexOf("\"experiment_id\"");
    int q1 = body.indexOf('"', body.indexOf(':', i) + 1);
    return body.substring(q1 + 1, body.indexOf('"', q1 + 1));
  }

  /** The same work as one LogRun, as MLflow does it: create the run, then log its params and metrics in one batch. */
  private static void mlflowRun(HttpClient http, String base, String experiment, int thread, long n) throws Exception {
    long now = System.currentTimeMillis();
    String created = post(http, base, "/api/2.0/mlflow/runs/create", "{\"experiment_id\":\"" + experiment
        + "\",\"run_name\":\"r" + NONCE + "-" + thread + "-" + n + "\",\"start_time\":" + (now - 270_000)
        + ",\"tags\":[{\"key\":\"git_commit\",\"value\":\"4f2a9c1\"},{\"key\":\"tag\",\"value\":\"bench-sweep\"}]}");
    int i = created.indexOf("\"run_id\"");
    int q1 = created.indexOf('"', created.indexOf(':', i) + 1);
    String runId = created.substring(q1 + 1, created.indexOf('"', q1 + 1));
    post(http, base, "/api/2.0/mlflow/runs/log-batch", "{\"run_id\":\"" + runId + "\",\"params\":["
        + "{\"key\":\"alpha\",\"value\":\"0.001\"},{\"key\":\"max_iter\",\"value\":\"1000\"},"
        + "{\"key\":\"l1_ratio\",\"value\":\"0.5\"},{\"key\":\"max_depth\",\"value\":\"6\"}],\"metrics\":["
        + "{\"key\":\"rmse\",\"value\":0.31,\"timestamp\":" + now + ",\"step\":0},"
        + "{\"key\":\"r2\",\"value\":0.81,\"timestamp\":" + now + ",\"step\":0},"
        + "{\"key\":\"mae\",\"value\":0.22,\"timestamp\":" + now + ",\"step\":0}]}");
  }

  private static String post(HttpClient http, String base, String path, String json) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (r.statusCode() != 200) {
      throw new HttpError(r.statusCode(), r.body());
    }
    return r.body();
  }

  static final class HttpError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    HttpError(int status, String body) {
      super("HTTP " + status + ": " + (body.length() > 200 ? body.substring(0, 200) : body));
      this.status = status;
    }
  }

  // ---- measuring -------------------------------------------------------------------------------

  private static final ThreadLocal<int[]> NESTING = ThreadLocal.withInitial(() -> new int[1]);

  /** Starts one asynchronous call. */
  interface AsyncCall {
    com.google.common.util.concurrent.ListenableFuture<?> start(int slot, long n);
  }

  /**
   * One measurement's window (warm-up, then the measured seconds) and its accounting: calls that start
   * inside the measured window count, with their latencies (each slot or thread its own {@link Latencies})
   * and errors by name; the first call that counts takes the CPU readings.
   */
  private static final class Window {
    final long from;
    final long to;
    final int capacity;
    final List<Latencies> lats = new ArrayList<>();
    private final Process server;
    private final int seconds;
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final AtomicLong serverCpuFrom = new AtomicLong(-1);
    private final AtomicLong clientCpuFrom = new AtomicLong(-1);

    Window(int c, int warmupSeconds, int seconds, Process server) {
      this.from = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
      this.to = from + TimeUnit.SECONDS.toNanos(seconds);
      this.seconds = seconds;
      this.server = server;
      this.capacity = 3_000_000 / c + 10_000;
      for (int t = 0; t < c; t++) {
        lats.add(new Latencies(capacity));
      }
    }

    /** Whether a call starting at {@code s} counts. */
    boolean counts(long s) {
      boolean counted = s - from >= 0;
      if (counted && serverCpuFrom.get() < 0) {
        serverCpuFrom.compareAndSet(-1, cpuNanos(server));
        clientCpuFrom.compareAndSet(-1, processCpuNanos());
      }
      return counted;
    }

    /** A counted call of slot {@code slot} that started at {@code s} ended, with {@code error} or none. */
    void ended(int slot, long s, String error) {
      if (error != null) {
        errors.computeIfAbsent(error, k -> new LongAdder()).increment();
      } else if (lats.get(slot).count() < capacity) {
        lats.get(slot).add(System.nanoTime() - s);
      }
    }

    Result result(String kase, int c) {
      double elapsed = (System.nanoTime() - from) / 1e9;
      Latencies all = Latencies.merge(lats, lats.stream().mapToInt(Latencies::count).sum());
      Map<String, Long> errs = new TreeMap<>();
      errors.forEach((k, v) -> errs.put(k, v.sum()));
      long calls = all.count();
      double serverCpu = server == null ? Double.NaN
          : (cpuNanos(server) - serverCpuFrom.get()) / 1e6 / Math.max(1, calls);
      double clientCpu = (processCpuNanos() - clientCpuFrom.get()) / 1e6 / Math.max(1, calls);
      return new Result(kase, c, calls, Math.max(elapsed, seconds), all, errs, serverCpu, clientCpu,
          LineageSearchBenchmark.loadAverage());
    }
  }

  private static String errorName(Throwable failure) {
    if (failure instanceof StatusRuntimeException e) {
      return e.getStatus().getCode().name();
    }
    if (failure instanceof HttpError e) {
      return "HTTP " + e.status;
    }
    return failure.getClass().getSimpleName();
  }

  /**
   * {@link #measure}'s rules with asynchronous calls: {@code c} calls in flight, each slot starting its
   * next call as soon as its last one is answered (on the transport's thread), for warm-up + measured
   * seconds. No thread per call in flight.
   */
  static Result measureAsync(String kase, int c, int warmupSeconds, int seconds, Process server, AsyncCall call)
      throws InterruptedException {
    Window w = new Window(c, warmupSeconds, seconds, server);
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(c);
    for (int t = 0; t < c; t++) {
      int slot = t;
      new Object() {
        long n;

        void next() {
          long s = System.nanoTime();
          if (s - w.to >= 0) {
            done.countDown();
            return;
          }
          boolean counted = w.counts(s);
          com.google.common.util.concurrent.ListenableFuture<?> f;
          try {
            f = call.start(slot, n++);
          } catch (RuntimeException e) {
            answered(counted, s, e);
            return;
          }
          f.addListener(() -> {
            Throwable failure = null;
            try {
              f.get();
            } catch (java.util.concurrent.ExecutionException e) {
              failure = e.getCause();
            } catch (Exception e) {
              failure = e;
            }
            answered(counted, s, failure);
          }, com.google.common.util.concurrent.MoreExecutors.directExecutor());
        }

        void answered(boolean counted, long s, Throwable failure) {
          if (counted) {
            w.ended(slot, s, failure == null ? null : errorName(failure));
          }
          // A call that fails at once answers on this stack: go on from another thread now and then
          // rather than recursing without bound.
          int[] depth = NESTING.get();
          if (depth[0] > 32) {
            java.util.concurrent.ForkJoinPool.commonPool().execute(this::next);
            return;
          }
          depth[0]++;
          try {
            next();
          } finally {
            depth[0]--;
          }
        }
      }.next();
    }
    if (!done.await(seconds + warmupSeconds + 120L, TimeUnit.SECONDS)) {
      throw new IllegalStateException(kase + ": calls still unanswered 120 s after the measured window");
    }
    return w.result(kase, c);
  }

  /**
   * {@code c} threads call back to back for warm-up + measured seconds; calls that start inside the
   * measured window count, with their latencies and errors (by gRPC status or HTTP status).
   */
  static Result measure(String kase, int c, int warmupSeconds, int seconds, Process server, Call call)
      throws InterruptedException {
    Window w = new Window(c, warmupSeconds, seconds, server);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < c; t++) {
      int id = t;
      Thread th = new Thread(() -> {
        long n = 0;
        while (true) {
          long s = System.nanoTime();
          if (s - w.to >= 0) {
            return;
          }
          boolean counted = w.counts(s);
          String error = null;
          try {
            call.run(id, n++);
          } catch (Exception e) {
            error = errorName(e);
          }
          if (counted) {
            w.ended(id, s, error);
          }
        }
      }, "load-" + t);
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) {
      th.join();
    }
    return w.result(kase, c);
  }

  /** The storage ceiling with {@code c} LogRuns in flight: as many groups as start in the measured seconds. */
  static Result storage(int c, int seconds, Path dir) throws Exception {
    Files.createDirectories(dir);
    try (StorageCeiling s = new StorageCeiling(dir)) {
      for (int i = 0; i < 20; i++) {
        s.commitGroup(c, "w" + i + "-").join();
      }
      Latencies l = new Latencies(10_000_000 / Math.max(1, c) + 1000);
      long cpu0 = processCpuNanos();
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      long groups = 0;
      long t;
      long logRuns = 0;
      // c clients, each with one LogRun in flight: the writer takes every client that is free (whose last
      // LogRun is durable), as the server's writer takes every waiting call, while earlier groups are
      // still being fsynced.
      java.util.concurrent.Semaphore free = new java.util.concurrent.Semaphore(c);
      List<long[]> began = new ArrayList<>();
      List<java.util.concurrent.CompletableFuture<Long>> durable = new ArrayList<>();
      while ((t = System.nanoTime()) - end < 0) {
        free.acquire();
        int g = 1 + free.drainPermits();
        t = System.nanoTime();
        java.util.concurrent.CompletableFuture<Long> d = s.commitGroup(g, "s" + groups + "-");
        d.thenRun(() -> free.release(g));
        durable.add(d);
        began.add(new long[] {t, g});
        groups++;
        logRuns += g;
      }
      for (int i = 0; i < durable.size(); i++) {
        l.add(durable.get(i).join() - began.get(i)[0]);
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      double cpu = (processCpuNanos() - cpu0) / 1e6 / logRuns;
      Latencies all = Latencies.merge(List.of(l), l.count());
      // calls = LogRuns written; latencies are per group, from the start of its commit to its fsync
      return new Result("storage ceiling (raw SQLite, " + c + " in flight)", c, logRuns, elapsed, all, Map.of(),
          Double.NaN, cpu, LineageSearchBenchmark.loadAverage());
    }
  }

  private static long cpuNanos(Process p) {
    if (p == null) {
      return 0;
    }
    return p.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static Result progress(Result r) {
    System.out.println(line(r));
    return r;
  }

  private static String line(Result r) {
    String errs = r.errors().isEmpty() ? "0" : r.errorCount() + " " + r.errors();
    return String.format(Locale.ROOT, "| %s | %d | %d | %,.0f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %s |",
        r.kase(), r.concurrency(), r.calls(), r.rate(), r.lat().percentileMs(50), r.lat().percentileMs(99),
        r.lat().percentileMs(99.9), r.lat().maxMs(), errs, Double.isNaN(r.serverCpuMsPerCall()) ? "-"
            : String.format(Locale.ROOT, "%.3f", r.serverCpuMsPerCall()),
        String.format(Locale.ROOT, "%.3f", r.clientCpuMsPerCall()), r.load());
  }

  /** The two LogRun cases: the client names the run, or the server does. */
  static final String LOGRUN = "LogRun";
  static final String LOGRUN_AUTO = "LogRun (server-assigned run_id)";

  static String table(List<Result> results) {
    StringBuilder b = new StringBuilder();
    b.append("| case | concurrency | calls | calls/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU ms/call"
        + " | client CPU ms/call | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n");
    for (Result r : results) {
      b.append(line(r)).append('\n');
    }
    b.append("\n| run_id from | concurrency | LogRun/s | p99 ms | ÷ transport ceiling | ÷ storage ceiling | ÷ MLflow |\n"
        + "|---|---:|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      if (!r.kase().equals(LOGRUN) && !r.kase().equals(LOGRUN_AUTO)) {
        continue;
      }
      b.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %s | %s | %s |%n",
          r.kase().equals(LOGRUN) ? "client" : "server", r.concurrency(), r.rate(),
          r.lat().percentileMs(99), ratio(r, results, "echo"), ratio(r, results, "storage"),
          ratio(r, results, "MLflow")));
    }
    return b.toString();
  }

  private static String ratio(Result r, List<Result> all, String prefix) {
    for (Result o : all) {
      if (o.concurrency() == r.concurrency() && o.kase().startsWith(prefix) && o.calls() > 0) {
        return String.format(Locale.ROOT, "%.2f", r.rate() / o.rate());
      }
    }
    return "-";
  }
}
