package io.arangopipe.bench;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Schema;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import io.arangopipe.server.store.sqlite.SqliteStore;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.LineageDirection;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.LineageServiceGrpc.LineageServiceBlockingStub;
import io.arangopipe.v1.SearchRunsRequest;
import io.arangopipe.v1.SearchRunsResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The issue-3 benchmark: {@code GetLineage} at depth 5 and {@code SearchRuns} with a metric filter, on a
 * generated graph of at least 1M vertices and 100k runs, against the real server over a loopback socket.
 *
 * <ol>
 *   <li>Generates the graph into a fresh data folder, straight through the embedded store in large units
 *       of work (not through gRPC), or reuses one with {@code --reuse}.
 *   <li>Starts {@link ArangopipeServer} with Netty on 127.0.0.1 and a free port on that folder.
 *   <li>For each case: warm-up calls, then measured calls, first from one client thread, then from
 *       {@code --threads} client threads sharing one channel; prints p50/p90/p99/max and throughput as a
 *       markdown table.
 * </ol>
 *
 * <p>Run {@code benchmarks/run-lineage-search.sh --help}; docs/benchmarks.md has the method and the results.
 */
public final class LineageSearchBenchmark {

  static final String FILTER = "devperf.rmse < 0.3 AND modelparams.alpha > 0.01";
  static final String ORDER_BY = "devperf.rmse";
  static final int PAGE_SIZE = 50;
  static final int DEEP_PAGE = 5;
  static final int DEPTH = 5;

  /** Command-line options. */
  record Options(Path dataDir, boolean reuse, boolean generateOnly, int projects, int runs, long vertices,
      int datasetsPerProject, int featuresetsPerDataset, int modelsPerProject, int deploymentsPerProject,
      int batch, int warmup, int calls, int threads, int maxNodes, List<String> cases, long seed) {

    static Options parse(String[] args) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          usage(System.out);
          System.exit(0);
        }
        if (a.equals("--reuse") || a.equals("--generate-only")) {
          m.put(a.substring(2), "true");
          continue;
        }
        if (!a.startsWith("--") || i + 1 >= args.length) {
          usage(System.err);
          throw new IllegalArgumentException("unexpected argument: " + a);
        }
        m.put(a.substring(2), args[++i]);
      }
      Options o = new Options(
          Paths.get(m.getOrDefault("data-dir", "target/lineage-search-data")),
          Boolean.parseBoolean(m.remove("reuse")),
          Boolean.parseBoolean(m.remove("generate-only")),
          intOpt(m, "projects", 50), intOpt(m, "runs", 100_000), Long.parseLong(m.getOrDefault("vertices", "1000000")),
          intOpt(m, "datasets-per-project", 20), intOpt(m, "featuresets-per-dataset", 2),
          intOpt(m, "models-per-project", 10), intOpt(m, "deployments-per-project", 100),
          intOpt(m, "batch", 5_000), intOpt(m, "warmup", 200), intOpt(m, "calls", 2_000), intOpt(m, "threads", 8),
          intOpt(m, "max-nodes", 0),
          List.of(m.getOrDefault("cases", String.join(",", CASE_NAMES)).split(",")),
          Long.parseLong(m.getOrDefault("seed", "42")));
      m.keySet().removeAll(List.of("data-dir", "projects", "runs", "vertices", "datasets-per-project",
          "featuresets-per-dataset", "models-per-project", "deployments-per-project", "batch", "warmup", "calls",
          "threads", "max-nodes", "cases", "seed"));
      if (!m.isEmpty()) {
        usage(System.err);
        throw new IllegalArgumentException("unknown option(s): " + m.keySet());
      }
      for (String c : o.cases()) {
        if (!CASE_NAMES.contains(c)) {
          throw new IllegalArgumentException("unknown case " + c + "; cases: " + CASE_NAMES);
        }
      }
      return o;
    }

    private static int intOpt(Map<String, String> m, String name, int dflt) {
      return Integer.parseInt(m.getOrDefault(name, Integer.toString(dflt)));
    }

    static void usage(PrintStream out) {
      out.println("""
          usage: LineageSearchBenchmark [options]
            --data-dir DIR              data folder (default target/lineage-search-data); emptied and regenerated
                                        unless --reuse
            --reuse                     measure an existing data folder generated earlier (no generation)
            --generate-only             generate, then stop
            --projects N                projects (default 50)
            --runs N                    runs in all, spread evenly over the projects (default 100000)
            --vertices N                at least this many vertices: serving measurements fill up (default 1000000)
            --datasets-per-project N    (default 20)
            --featuresets-per-dataset N (default 2)
            --models-per-project N      (default 10)
            --deployments-per-project N (default 100)
            --batch N                   inserts per unit of work while generating (default 5000)
            --warmup N                  unmeasured calls per case before measuring (default 200)
            --calls N                   measured calls per case and concurrency (default 2000)
            --threads N                 client threads for the concurrent pass (default 8; 1 skips it)
            --max-nodes N               GetLineage max_nodes (default 0: the server's default, 1000)
            --cases a,b,...             which cases (default all): """ + String.join(",", CASE_NAMES) + """

            --seed N                    random seed (default 42)
          """);
    }
  }

  static final List<String> CASE_NAMES = List.of("lineage-down-dataset", "lineage-down-dataset-ids",
      "lineage-down-featureset",
      "lineage-up-deployment", "lineage-up-run", "search-page1", "search-page5");

  /** One call of a case; returns the size of the answer (nodes or runs) and whether it was truncated. */
  @FunctionalInterface
  interface Call {
    Answer call(LineageServiceBlockingStub stub, SplittableRandom random);
  }

  record Answer(int size, boolean truncated, int bytes) {}

  record Case(String name, String description, Call call) {}

  record Result(String name, String description, int threads, int calls, double p50, double p90, double p99,
      double max, double throughput, double cpuMsPerCall, double meanSize, int minSize, int maxSize,
      double truncatedShare, double meanKiB, long errors, String loadAverage) {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    PrintStream out = System.out;
    out.printf("%s, java %s, %d CPUs, max heap %,d MiB, load average %s%n", Instant.now(),
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20, loadAverage());

    GraphGenerator.Ids ids;
    Map<String, Long> counts;
    if (o.reuse()) {
      if (!Files.exists(o.dataDir().resolve("arangopipe.db"))) {
        throw new IllegalArgumentException("--reuse: no arangopipe.db in " + o.dataDir().toAbsolutePath());
      }
      try (SqliteStore store = SqliteStore.open(o.dataDir(), SqliteStore.Options.defaults())) {
        new MetadataCore(store, Clock.systemUTC()); // migrates, as the server would
        ids = readIds(store);
        counts = counts(store);
      }
    } else {
      deleteRecursively(o.dataDir());
      try (SqliteStore store = SqliteStore.open(o.dataDir(), SqliteStore.Options.defaults())) {
        new MetadataCore(store, Clock.systemUTC()); // creates the builtin collections
        GraphGenerator g = new GraphGenerator(store, new GraphGenerator.Spec(o.projects(), o.runs(),
            o.datasetsPerProject(), o.featuresetsPerDataset(), o.modelsPerProject(), o.deploymentsPerProject(),
            o.vertices(), o.batch(), o.seed()), out);
        ids = g.generate();
        counts = counts(store);
      }
    }
    long totalVertices = counts.entrySet().stream().filter(e -> isVertexType(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
    long totalEdges = counts.entrySet().stream().filter(e -> !isVertexType(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
    out.printf("data folder %s: %,d vertices, %,d edges, database %,d MiB (+ WAL %,d MiB)%n",
        o.dataDir().toAbsolutePath(), totalVertices, totalEdges, size(o.dataDir().resolve("arangopipe.db")) >> 20,
        size(o.dataDir().resolve("arangopipe.db-wal")) >> 20);
    out.println("  " + counts);
    if (o.generateOnly()) {
      return;
    }

    // Loopback, a free port, no authentication, 8 RPC threads.
    ServerConfig config = ServerConfig.forTests(o.dataDir());
    List<Result> results = new ArrayList<>();
    try (ArangopipeServer server = new ArangopipeServer(config, null)) {
      out.printf("server on 127.0.0.1:%d (%s), %d RPC threads%n", server.port(), server.storeDescription(),
          config.threads());
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
          .maxInboundMessageSize(64 << 20).build();
      try {
        LineageServiceBlockingStub base = LineageServiceGrpc.newBlockingStub(channel);
        List<Case> cases = cases(o, ids, base);
        for (Case c : cases) {
          if (!o.cases().contains(c.name())) {
            continue;
          }
          out.printf("%s: %s%n", c.name(), c.description());
          results.add(run(base, c, 1, o.warmup(), o.calls(), o.seed() + 1));
          out.println("  " + line(results.get(results.size() - 1)));
          if (o.threads() > 1) {
            results.add(run(base, c, o.threads(), o.warmup(), o.calls(), o.seed() + 2));
            out.println("  " + line(results.get(results.size() - 1)));
          }
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    out.println();
    out.printf("Dataset: %,d vertices, %,d edges, %,d runs in %,d projects; GetLineage depth %d, max_nodes %s;"
            + " SearchRuns filter `%s`, order_by `%s`, page_size %d.%n%n", totalVertices, totalEdges,
        counts.getOrDefault(Schema.RUN, 0L), counts.getOrDefault(Schema.PROJECT, 0L), DEPTH,
        o.maxNodes() == 0 ? "default (1000)" : Integer.toString(o.maxNodes()), FILTER, ORDER_BY, PAGE_SIZE);
    out.println(table(results));
  }

  private static boolean isVertexType(String collection) {
    return List.of(Schema.PROJECT, Schema.MODELS, Schema.DATASETS, Schema.FEATURESETS, Schema.MODELPARAMS,
        Schema.RUN, Schema.DEVPERF, Schema.SERVINGPERF, Schema.DEPLOYMENT).contains(collection);
  }

  // ---- the cases ------------------------------------------------------------------------------------

  private static List<Case> cases(Options o, GraphGenerator.Ids ids, LineageServiceBlockingStub base) {
    List<Case> cases = new ArrayList<>();
    cases.add(lineage("lineage-down-dataset", "GetLineage DOWNSTREAM from a random dataset", ids.datasets(),
        LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM, o.maxNodes(), false));
    cases.add(lineage("lineage-down-dataset-ids", "GetLineage DOWNSTREAM from a random dataset, ids_only",
        ids.datasets(), LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM, o.maxNodes(), true));
    cases.add(lineage("lineage-down-featureset", "GetLineage DOWNSTREAM from a random featureset",
        ids.featuresets(), LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM, o.maxNodes(), false));
    cases.add(lineage("lineage-up-deployment", "GetLineage UPSTREAM from a random deployment", ids.deployments(),
        LineageDirection.LINEAGE_DIRECTION_UPSTREAM, o.maxNodes(), false));
    cases.add(lineage("lineage-up-run", "GetLineage UPSTREAM from a random run", ids.runs(),
        LineageDirection.LINEAGE_DIRECTION_UPSTREAM, o.maxNodes(), false));
    List<String> projects = ids.projectNames();
    cases.add(new Case("search-page1", "SearchRuns, a random project, first page", (stub, random) -> {
      SearchRunsResponse r = stub.searchRuns(search(projects.get(random.nextInt(projects.size()))).build());
      return new Answer(r.getRunsCount(), !r.getNextPageToken().isEmpty(), r.getSerializedSize());
    }));
    if (o.cases().contains("search-page5")) {
      // Page 5 through tokens: pages 1-4 are fetched once per project here, then each measured call asks
      // for page 5 of a random project with its (reusable, keyset) token.
      List<SearchRunsRequest> deep = new ArrayList<>();
      for (String p : projects) {
        SearchRunsRequest.Builder req = search(p);
        boolean more = true;
        for (int page = 1; page < DEEP_PAGE && more; page++) {
          SearchRunsResponse r = base.withDeadlineAfter(60, TimeUnit.SECONDS).searchRuns(req.build());
          more = !r.getNextPageToken().isEmpty();
          req.setPageToken(r.getNextPageToken());
        }
        if (more) {
          deep.add(req.build());
        }
      }
      if (deep.isEmpty()) {
        System.out.println("search-page5: skipped, no project has " + DEEP_PAGE + " pages of matching runs");
        return cases;
      }
      cases.add(new Case("search-page5", "SearchRuns, a random project, page " + DEEP_PAGE + " (keyset token; "
          + deep.size() + " of " + projects.size() + " projects have one)", (stub, random) -> {
            SearchRunsResponse r = stub.searchRuns(deep.get(random.nextInt(deep.size())));
            return new Answer(r.getRunsCount(), !r.getNextPageToken().isEmpty(), r.getSerializedSize());
          }));
    }
    return cases;
  }

  private static SearchRunsRequest.Builder search(String project) {
    return SearchRunsRequest.newBuilder().setProject(project).setFilter(FILTER).setOrderBy(ORDER_BY)
        .setPageSize(PAGE_SIZE);
  }

  private static Case lineage(String name, String description, List<String> starts, LineageDirection dir,
      int maxNodes, boolean idsOnly) {
    if (starts.isEmpty()) {
      throw new IllegalStateException("nothing to start " + name + " from");
    }
    return new Case(name, description + " (" + starts.size() + " candidates), depth " + DEPTH, (stub, random) -> {
      GetLineageResponse r = stub.getLineage(GetLineageRequest.newBuilder()
          .setStartId(starts.get(random.nextInt(starts.size()))).setDirection(dir).setMaxDepth(DEPTH)
          .setMaxNodes(maxNodes).setIdsOnly(idsOnly).build());
      return new Answer(r.getNodesCount(), r.getTruncated(), r.getSerializedSize());
    });
  }

  // ---- measuring ------------------------------------------------------------------------------------

  /**
   * {@code warmup} unmeasured then {@code calls} measured calls in all, spread over {@code threads} client
   * threads that share one channel, each call with a 60 s deadline.
   */
  private static Result run(LineageServiceBlockingStub base, Case c, int threads, int warmup, int calls, long seed)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      if (warmup > 0) {
        measure(pool, base, c, threads, warmup, seed ^ 0x5DEECE66DL);
      }
      return measure(pool, base, c, threads, calls, seed);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static Result measure(ExecutorService pool, LineageServiceBlockingStub base, Case c, int threads,
      int calls, long seed) throws Exception {
    AtomicLong errors = new AtomicLong();
    AtomicLong sizeSum = new AtomicLong();
    AtomicLong bytesSum = new AtomicLong();
    AtomicLong truncated = new AtomicLong();
    AtomicLong minSize = new AtomicLong(Long.MAX_VALUE);
    AtomicLong maxSize = new AtomicLong(Long.MIN_VALUE);
    List<Latencies> parts = new ArrayList<>();
    List<Future<?>> futures = new ArrayList<>();
    long cpu0 = processCpuNanos();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int mine = calls / threads + (t < calls % threads ? 1 : 0);
      Latencies lat = new Latencies(mine);
      parts.add(lat);
      SplittableRandom random = new SplittableRandom(seed * 31 + t);
      futures.add(pool.submit(() -> {
        for (int i = 0; i < mine; i++) {
          long t0 = System.nanoTime();
          try {
            Answer a = c.call().call(base.withDeadlineAfter(60, TimeUnit.SECONDS), random);
            lat.add(System.nanoTime() - t0);
            sizeSum.addAndGet(a.size());
            bytesSum.addAndGet(a.bytes());
            minSize.accumulateAndGet(a.size(), Math::min);
            maxSize.accumulateAndGet(a.size(), Math::max);
            if (a.truncated()) {
              truncated.incrementAndGet();
            }
          } catch (RuntimeException e) {
            if (errors.incrementAndGet() <= 3) {
              System.err.println(c.name() + ": " + e);
            }
          }
        }
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuMs = (processCpuNanos() - cpu0) / 1e6;
    Latencies all = Latencies.merge(parts, calls);
    int ok = all.count();
    return new Result(c.name(), c.description(), threads, ok, all.percentileMs(50), all.percentileMs(90),
        all.percentileMs(99), all.maxMs(), ok / seconds, ok == 0 ? 0 : cpuMs / ok,
        ok == 0 ? 0 : (double) sizeSum.get() / ok, ok == 0 ? 0 : (int) minSize.get(),
        ok == 0 ? 0 : (int) maxSize.get(), ok == 0 ? 0 : (double) truncated.get() / ok,
        ok == 0 ? 0 : bytesSum.get() / 1024.0 / ok, errors.get(), loadAverage());
  }

  /** CPU time of this whole process (client and server share it), in nanoseconds. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** The machine's 1-minute load average (other work on a shared machine inflates latencies). */
  static String loadAverage() {
    try {
      return Files.readString(Paths.get("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String line(Result r) {
    return String.format(Locale.ROOT, "%d thread(s): %d calls, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms,"
            + " %.1f calls/s, CPU %.1f ms/call, size %.1f (min %d, max %d), %s, %.0f KiB, %d errors, load %s",
        r.threads(), r.calls(), r.p50(), r.p90(), r.p99(), r.max(), r.throughput(), r.cpuMsPerCall(), r.meanSize(),
        r.minSize(), r.maxSize(), truncatedText(r), r.meanKiB(), r.errors(), r.loadAverage());
  }

  private static String truncatedText(Result r) {
    return r.name().startsWith("search") ? String.format(Locale.ROOT, "%.0f%% with a next page",
        100 * r.truncatedShare()) : String.format(Locale.ROOT, "%.0f%% truncated", 100 * r.truncatedShare());
  }

  static String table(List<Result> results) {
    StringBuilder b = new StringBuilder();
    b.append("| case | client threads | calls | p50 ms | p90 ms | p99 ms | max ms | calls/s | CPU ms/call"
        + " | nodes or runs returned (mean, min-max) | truncated / next page | response KiB | errors | load |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n");
    for (Result r : results) {
      b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f (%d-%d)"
              + " | %s | %.0f | %d | %s |%n", r.name(), r.threads(), r.calls(), r.p50(), r.p90(), r.p99(), r.max(),
          r.throughput(), r.cpuMsPerCall(), r.meanSize(), r.minSize(), r.maxSize(), truncatedText(r), r.meanKiB(),
          r.errors(), r.loadAverage()));
    }
    return b.toString();
  }

  // ---- data folder ----------------------------------------------------------------------------------

  /** The ids of an existing data folder, read straight from the store (before the server opens it). */
  private static GraphGenerator.Ids readIds(GraphStore store) {
    return new GraphGenerator.Ids(all(store, Schema.PROJECT).stream().map(VertexDoc::name).toList(),
        ids(store, Schema.DATASETS), ids(store, Schema.FEATURESETS), ids(store, Schema.DEPLOYMENT),
        ids(store, Schema.RUN));
  }

  private static List<String> ids(GraphStore store, String collection) {
    return all(store, collection).stream().map(v -> v.id().toString()).toList();
  }

  private static List<VertexDoc> all(GraphStore store, String collection) {
    List<VertexDoc> out = new ArrayList<>();
    String after = null;
    while (true) {
      String from = after;
      List<VertexDoc> page = store.read(tx -> tx.findVertices(new VertexQuery(collection, List.of(),
          VertexQuery.Order.KEY, from, null, 10_000)));
      out.addAll(page);
      if (page.size() < 10_000) {
        return out;
      }
      after = page.get(page.size() - 1).id().key();
    }
  }

  private static Map<String, Long> counts(GraphStore store) {
    return store.read(tx -> {
      Map<String, Long> m = new LinkedHashMap<>();
      tx.collections().forEach(c -> m.put(c.name(), tx.count(c.name())));
      return m;
    });
  }

  private static long size(Path p) {
    try {
      return Files.exists(p) ? Files.size(p) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
