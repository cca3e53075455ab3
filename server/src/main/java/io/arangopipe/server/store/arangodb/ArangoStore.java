package io.arangopipe.server.store.arangodb;

import com.arangodb.ArangoCursor;
import com.arangodb.ArangoDB;
import com.arangodb.ArangoDBException;
import com.arangodb.ArangoDatabase;
import com.arangodb.ArangoGraph;
import com.arangodb.Protocol;
import com.arangodb.entity.CollectionEntity;
import com.arangodb.entity.CollectionType;
import com.arangodb.entity.EdgeDefinition;
import com.arangodb.entity.LoadBalancingStrategy;
import com.arangodb.model.AqlQueryOptions;
import com.arangodb.model.CollectionCreateOptions;
import com.arangodb.model.CollectionsReadOptions;
import com.arangodb.model.DBCreateOptions;
import com.arangodb.model.DatabaseOptions;
import com.arangodb.model.DocumentCreateOptions;
import com.arangodb.model.OverwriteMode;
import com.arangodb.model.PersistentIndexOptions;
import com.arangodb.model.StreamTransactionOptions;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.UnavailableException;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedTimeLimiterMetrics;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.github.resilience4j.timelimiter.TimeLimiterConfig;
import io.github.resilience4j.timelimiter.TimeLimiterRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ArangoDB store: the arangopipe graph (the seed library's collection names, {@code _key} and
 * {@code _id}) in one database, reached with arangodb-java-driver.
 *
 * <p><b>Writes.</b> Each unit of work is one stream transaction that declares every collection the
 * store knows for writing (the work is a lambda, so which ones it touches is not known before it runs;
 * declaring all is cheap, and a collection that another server created since is picked up by refreshing
 * the list and redoing the work when ArangoDB answers 1652). The transaction waits for sync, so an
 * acknowledged write is on disk. If the work throws, the transaction is aborted. On a write-write
 * conflict (1200), lock errors (18, 28, 1302) and transient transport failures, the whole unit of work
 * is run again in a new transaction, with jittered exponential backoff.
 *
 * <p><b>Reads.</b> Each read is a stream transaction too (declaring every collection for reading), so a
 * unit of reading work that runs several queries sees one snapshot, as the contract asks.
 *
 * <p><b>Resilience.</b> Every attempt runs as Retry(CircuitBreaker(TimeLimiter(Bulkhead(attempt)))): the
 * time limit is the smaller of the configured call time-out and what is left of the gRPC deadline; the
 * breaker counts only infrastructure failures (transport, 503, time-outs, cluster unavailability), so a
 * dead database gives a fast UNAVAILABLE while business errors (not found, already exists) pass through.
 */
public final class ArangoStore implements GraphStore {

  private static final Logger log = LoggerFactory.getLogger(ArangoStore.class);

  /**
   * Tunables.
   *
   * @param metrics where the resilience4j metrics go
   * @param deadline how long the current call may still take (e.g. from the gRPC deadline); null = no limit
   * @param callTimeout the most one call may take, retries included
   * @param maxAttempts attempts of a unit of work (1 = no retry)
   * @param retryBackoff the first retry's backoff (doubling, randomised by half)
   * @param breakerOpen how long the breaker stays open before it lets trial calls through
   * @param maxConcurrent calls that may run against the database at once (the bulkhead)
   */
  public record Options(MeterRegistry metrics, Supplier<Duration> deadline, Duration callTimeout, int maxAttempts,
      Duration retryBackoff, Duration breakerOpen, int maxConcurrent) {
    public static Options defaults() {
      return new Options(new CompositeMeterRegistry(), () -> null, Duration.ofSeconds(30), 5,
          Duration.ofMillis(50), Duration.ofSeconds(5), 64);
    }

    public Options withMetrics(MeterRegistry m) {
      return new Options(m, deadline, callTimeout, maxAttempts, retryBackoff, breakerOpen, maxConcurrent);
    }

    public Options withDeadline(Supplier<Duration> d) {
      return new Options(metrics, d, callTimeout, maxAttempts, retryBackoff, breakerOpen, maxConcurrent);
    }

    public Options withCallTimeout(Duration t) {
      return new Options(metrics, deadline, t, maxAttempts, retryBackoff, breakerOpen, maxConcurrent);
    }

    public Options withBreakerOpen(Duration d) {
      return new Options(metrics, deadline, callTimeout, maxAttempts, retryBackoff, d, maxConcurrent);
    }
  }

  /** Error numbers after which the whole unit of work is run again. */
  private static final Set<Integer> RETRY_NUMS = Set.of(18, 28, 29, 1004, 1200, 1302, 1457, 1465, 1478, 1496,
      1652, 1655, 21004);
  /** Error numbers that mean the database (not the request) is in trouble: the breaker counts them. */
  private static final Set<Integer> INFRA_NUMS = Set.of(503, 1004, 1457, 1465, 1478, 1496, 21004);

  private final ArangoSettings settings;
  private final Options options;
  private final ArangoDB adb;
  private final ArangoDatabase db;
  private final Set<String> physical = ConcurrentHashMap.newKeySet();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private final ExecutorService executor;
  private final Retry retry;
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final TimeLimiter timeLimiter;
  private final CatalogImpl catalog = new CatalogImpl();
  private volatile boolean closed;

  private ArangoStore(ArangoSettings settings, Options options) {
    this.settings = settings;
    this.options = options;
    this.adb = connect(settings);
    this.db = adb.db(settings.database());
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "arangopipe-arangodb-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    RetryRegistry retries = RetryRegistry.of(RetryConfig.custom()
        .maxAttempts(options.maxAttempts())
        .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(options.retryBackoff(), 2.0, 0.5,
            Duration.ofSeconds(2)))
        .retryOnException(e -> e instanceof Transient t && t.retryable)
        .failAfterMaxAttempts(false)
        .build());
    CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
        .slidingWindowSize(10)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(50)
        .waitDurationInOpenState(options.breakerOpen())
        .permittedNumberOfCallsInHalfOpenState(2)
        .recordException(e -> e instanceof Transient t && t.infrastructure)
        .build());
    BulkheadRegistry bulkheads = BulkheadRegistry.of(BulkheadConfig.custom()
        .maxConcurrentCalls(options.maxConcurrent())
        .maxWaitDuration(Duration.ofMillis(100))
        .build());
    TimeLimiterRegistry limiters = TimeLimiterRegistry.of(TimeLimiterConfig.custom()
        .timeoutDuration(options.callTimeout())
        .cancelRunningFuture(true)
        .build());
    this.retry = retries.retry("arangodb");
    this.breaker = breakers.circuitBreaker("arangodb");
    this.bulkhead = bulkheads.bulkhead("arangodb");
    this.timeLimiter = limiters.timeLimiter("arangodb");
    MeterRegistry m = options.metrics();
    TaggedRetryMetrics.ofRetryRegistry(retries).bindTo(m);
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(m);
    TaggedBulkheadMetrics.ofBulkheadRegistry(bulkheads).bindTo(m);
    TaggedTimeLimiterMetrics.ofTimeLimiterRegistry(limiters).bindTo(m);
  }

  /**
   * Connects and creates what is missing: the database, the store's bookkeeping collections, the named
   * graph, and the physical collection of every defined type (the types themselves, built-in ones
   * included, are defined by the core through {@link io.arangopipe.server.store.WriteTx#putCollection}).
   *
   * @throws UnavailableException ArangoDB cannot be reached or refused the set-up
   */
  public static ArangoStore open(ArangoSettings settings, Options options) {
    ArangoStore s = new ArangoStore(settings, options);
    try {
      s.call(false, cancelled -> {
        s.setUp();
        return null;
      });
    } catch (UnavailableException e) {
      s.close();
      throw new UnavailableException(atStart(settings, e.getMessage()), e);
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /**
   * The message of a failed start: which endpoints and database, and what to do (the server sets up its
   * database at start, so it does not start without ArangoDB; under Kubernetes the pod restarts until
   * ArangoDB answers).
   */
  static String atStart(ArangoSettings settings, String cause) {
    String said = cause == null ? "unavailable" : cause.strip();
    if (!said.endsWith(".") && !said.endsWith("!")) {
      said += ".";
    }
    return "ArangoDB at " + String.join(",", settings.endpoints()) + " (database " + settings.database()
        + ", user " + settings.user() + "): " + said + " The server sets up its database at start and does not"
        + " start without ArangoDB: check that ArangoDB is up and reachable from here at --arangodb-endpoints"
        + " (ARANGOPIPE_ARANGODB_ENDPOINTS), and the user and password; start the server again once it answers";
  }

  /** For tests against a stub: connects without set-up, assuming these physical collections exist. */
  static ArangoStore connectOnly(ArangoSettings settings, Options options, Collection<String> assumed) {
    ArangoStore s = new ArangoStore(settings, options);
    s.physical.addAll(assumed);
    return s;
  }

  private static ArangoDB connect(ArangoSettings s) {
    ArangoDB.Builder b = new ArangoDB.Builder();
    Boolean tls = null;
    for (String e : s.endpoints()) {
      ArangoSettings.Endpoint ep = ArangoSettings.Endpoint.parse(e);
      if (tls != null && tls != ep.tls()) {
        throw new IllegalArgumentException("--arangodb-endpoints must all be http:// or all https://");
      }
      tls = ep.tls();
      b.host(ep.host(), ep.port());
    }
    b.protocol(s.http2() ? Protocol.HTTP2_JSON : Protocol.HTTP_JSON)
        .user(s.user())
        .password(s.password())
        .timeout((int) Math.min(Integer.MAX_VALUE, s.timeout().toMillis()))
        .maxConnections(s.maxConnections())
        .loadBalancingStrategy(s.endpoints().size() > 1 ? LoadBalancingStrategy.ROUND_ROBIN
            : LoadBalancingStrategy.NONE)
        .acquireHostList(false);
    if (Boolean.TRUE.equals(tls)) {
      b.useSsl(true);
      if (s.caFile() != null) {
        b.sslContext(sslContext(s));
      }
    } else if (s.caFile() != null) {
      throw new IllegalArgumentException("--arangodb-ca-file is given but the endpoints are http://; use https://");
    }
    return b.build();
  }

  /** An SSL context trusting the PEM certificates in the CA file. */
  private static SSLContext sslContext(ArangoSettings s) {
    try (InputStream in = Files.newInputStream(s.caFile())) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IllegalArgumentException("--arangodb-ca-file " + s.caFile() + " holds no PEM certificate");
      }
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("--arangodb-ca-file " + s.caFile() + " cannot be used: " + e.getMessage(), e);
    }
  }

  @Override
  public String describe() {
    return "arangodb:" + String.join(",", settings.endpoints()) + "/" + settings.database();
  }

  // ---- set-up ------------------------------------------------------------------------------------

  private void setUp() {
    if (!db.exists()) {
      DatabaseOptions o = new DatabaseOptions().replicationFactor(settings.replicationFactor())
          .writeConcern(settings.writeConcern());
      if (settings.oneShard()) {
        o.sharding("single");
      }
      try {
        adb.createDatabase(new DBCreateOptions().name(settings.database()).options(o));
        log.info("created the ArangoDB database {}", settings.database());
      } catch (ArangoDBException e) {
        if (!Integer.valueOf(1207).equals(e.getErrorNum())) {
          throw e;
        }
      }
    }
    refresh();
    for (String c : Layout.BOOKKEEPING) {
      createIfMissing(c, false);
    }
    db.collection(Layout.DEFS).ensurePersistentIndex(List.of("kind"),
        new PersistentIndexOptions().name("arangopipe_kind"));
    db.collection(Layout.HISTORY).ensurePersistentIndex(List.of("seq"),
        new PersistentIndexOptions().name("arangopipe_seq"));
    db.collection(Layout.HISTORY).ensurePersistentIndex(List.of("entity_id", "seq"),
        new PersistentIndexOptions().name("arangopipe_entity_seq"));
    db.collection(Layout.META).insertDocument(Map.of("_key", Layout.HISTORY_SEQ, "value", 0L),
        new DocumentCreateOptions().overwriteMode(OverwriteMode.ignore).waitForSync(true));
    ArangoGraph graph = db.graph(settings.graph());
    if (!graph.exists()) {
      try {
        graph.create(List.of());
        log.info("created the named graph {}", settings.graph());
      } catch (ArangoDBException e) {
        if (!Integer.valueOf(1925).equals(e.getErrorNum())) {
          throw e;
        }
      }
    }
    // Every defined type's collection, indexes and place in the graph (after a restore, or by hand).
    try {
      ArangoTx tx = new ArangoTx(q -> runQuery(q, null), catalog, false);
      for (CollectionDef d : tx.collections()) {
        catalog.ensure(d);
      }
    } catch (RuntimeException e) {
      log.warn("could not check the defined types' collections: {}", e.getMessage());
    }
  }

  private void refresh() {
    Set<String> now = ConcurrentHashMap.newKeySet();
    for (CollectionEntity c : db.getCollections(new CollectionsReadOptions().excludeSystem(true))) {
      now.add(c.getName());
    }
    physical.addAll(now);
    physical.retainAll(now);
  }

  private void createIfMissing(String name, boolean edge) {
    if (physical.contains(name)) {
      return;
    }
    CollectionCreateOptions o = new CollectionCreateOptions()
        .type(edge ? CollectionType.EDGES : CollectionType.DOCUMENT)
        .numberOfShards(settings.shards())
        .replicationFactor(settings.replicationFactor())
        .writeConcern(settings.writeConcern());
    try {
      db.createCollection(name, o);
      log.info("created the ArangoDB collection {}", name);
    } catch (ArangoDBException e) {
      if (!Integer.valueOf(1207).equals(e.getErrorNum())) {
        throw e;
      }
    }
    physical.add(name);
  }

  /** Which physical collections exist (refreshed on a miss), and creating them outside transactions. */
  private final class CatalogImpl implements ArangoTx.Catalog {
    @Override
    public boolean exists(String name) {
      if (physical.contains(name)) {
        return true;
      }
      refresh();
      return physical.contains(name);
    }

    @Override
    public void ensure(CollectionDef def) {
      String p = Layout.physical(def.name());
      createIfMissing(p, def.isEdge());
      if (def.isEdge()) {
        uniqueIndex(p, List.of("_from", "_to"), "arangopipe_pair", false);
      } else {
        if (!def.name().startsWith("_")) {
          runQuery(AqlCompiler.adoptSeedVertices(p), null);
        }
        uniqueIndex(p, List.of(Layout.SYSTEM + ".name", Layout.SYSTEM + ".project"), "arangopipe_name", true);
        db.collection(p).ensurePersistentIndex(List.of(Layout.SYSTEM + ".project"),
            new PersistentIndexOptions().name("arangopipe_project"));
        if (p.equals("run")) {
          db.collection(p).ensurePersistentIndex(List.of("tag"), new PersistentIndexOptions().name("arangopipe_tag"));
          db.collection(p).ensurePersistentIndex(List.of("deployment_tag"),
              new PersistentIndexOptions().name("arangopipe_deployment_tag"));
        }
      }
      if (!def.name().startsWith("_")) {
        addToGraph(def);
      }
    }
  }

  /**
   * A unique index. In a cluster ArangoDB allows unique indexes only when they contain the shard key;
   * with several shards per collection (and no OneShard database), uniqueness is then checked inside the
   * transaction only, and a warning says so.
   */
  private void uniqueIndex(String collection, List<String> fields, String name, boolean sparse) {
    try {
      db.collection(collection).ensurePersistentIndex(fields, new PersistentIndexOptions().unique(true).sparse(sparse)
          .name(name));
    } catch (ArangoDBException e) {
      if (e.getErrorNum() == null || e.getResponseCode() == null || e.getResponseCode() >= 500) {
        throw e;
      }
      if (warned.add(collection + "/" + name)) {
        log.warn("cannot create the unique index {} on {} ({}): uniqueness of {} is checked inside transactions only;"
            + " use --arangodb-one-shard or --arangodb-shards 1 to have ArangoDB enforce it", name, collection,
            e.getErrorMessage(), fields);
      }
    }
  }

  /** The graph is for users' own AQL and the web UI; the store's queries do not need it. */
  private void addToGraph(CollectionDef def) {
    String p = Layout.physical(def.name());
    try {
      ArangoGraph g = db.graph(settings.graph());
      if (def.isEdge()) {
        if (!g.getEdgeDefinitions().contains(p)) {
          g.addEdgeDefinition(new EdgeDefinition().collection(p)
              .from(def.fromTypes().stream().map(Layout::physical).toArray(String[]::new))
              .to(def.toTypes().stream().map(Layout::physical).toArray(String[]::new)));
        }
      } else if (!g.getVertexCollections().contains(p)) {
        g.addVertexCollection(p);
      }
    } catch (ArangoDBException e) {
      if (e.getErrorNum() == null) {
        throw e;
      }
      if (warned.add("graph/" + p)) {
        log.warn("could not add {} to the graph {}: {}", p, settings.graph(), e.getErrorMessage());
      }
    }
  }

  // ---- transactions ------------------------------------------------------------------------------

  private List<Object> runQuery(Aql q, String txId) {
    AqlQueryOptions o = new AqlQueryOptions().batchSize(1000);
    if (txId != null) {
      o.streamTransactionId(txId);
    }
    try (ArangoCursor<Object> c = db.query(q.text(), Object.class, q.bindVars(), o)) {
      return new ArrayList<>(c.asListRemaining());
    } catch (IOException e) {
      throw new ArangoDBException(e);
    } catch (ArangoDBException e) {
      throw Failures.inQuery(e, q);
    }
  }

  @Override
  public <T> T read(ReadWork<T> work) {
    return call(false, cancelled -> {
      String id = db.beginStreamTransaction(new StreamTransactionOptions()
          .readCollections(physical.toArray(String[]::new)).allowImplicit(true)).getId();
      try {
        return work.run(new ArangoTx(q -> runQuery(q, id), catalog, false));
      } finally {
        abortQuietly(id);
      }
    });
  }

  @Override
  public <T> T write(WriteWork<T> work) {
    return call(true, cancelled -> {
      String id = db.beginStreamTransaction(new StreamTransactionOptions()
          .writeCollections(physical.toArray(String[]::new)).allowImplicit(true).waitForSync(true)).getId();
      boolean committed = false;
      try {
        T result = work.run(new ArangoTx(q -> runQuery(q, id), catalog, true));
        if (cancelled.get()) {
          throw new Transient("the call ran out of time before the commit; nothing was written", null, false, true);
        }
        try {
          db.commitStreamTransaction(id);
        } catch (ArangoDBException e) {
          if (e.getErrorNum() == null) {
            committed = true; // unknown: do not abort what may have committed
            throw new Transient("ArangoDB did not confirm the commit (" + e.getMessage() + "): the write may or may"
                + " not be stored; retry with the same request_id to be sure", e, false, true);
          }
          throw e;
        }
        committed = true;
        return result;
      } finally {
        if (!committed) {
          abortQuietly(id);
        }
      }
    });
  }

  private void abortQuietly(String id) {
    try {
      db.abortStreamTransaction(id);
    } catch (RuntimeException e) {
      log.debug("aborting stream transaction {}: {}", id, e.getMessage());
    }
  }

  /** One attempt of a unit of work; {@code cancelled} turns true when the attempt ran out of time. */
  @FunctionalInterface
  private interface Attempt<T> {
    T run(AtomicBoolean cancelled);
  }

  /** Retry(CircuitBreaker(TimeLimiter(Bulkhead(attempt)))), within the call's deadline. */
  private <T> T call(boolean write, Attempt<T> attempt) {
    if (closed) {
      throw new UnavailableException("the store is shutting down");
    }
    Duration budget = options.callTimeout();
    Duration left = options.deadline().get();
    if (left != null && left.compareTo(budget) < 0) {
      budget = left;
    }
    long end = System.nanoTime() + Math.max(0, budget.toNanos());
    Supplier<T> timed = () -> {
      long remaining = end - System.nanoTime();
      if (remaining <= 0) {
        throw new UnavailableException("ArangoDB did not answer within the call's time limit");
      }
      AtomicBoolean cancelled = new AtomicBoolean();
      CompletableFuture<T> f = CompletableFuture.supplyAsync(
          () -> bulkhead.executeSupplier(() -> guarded(attempt, cancelled)), executor);
      try {
        if (remaining < options.callTimeout().toNanos()) {
          return f.get(remaining, TimeUnit.NANOSECONDS);
        }
        return timeLimiter.executeFutureSupplier(() -> f);
      } catch (TimeoutException e) {
        cancelled.set(true);
        throw new Transient("ArangoDB did not answer within the call's time limit", e, false, true);
      } catch (ExecutionException e) {
        throw unwrap(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancelled.set(true);
        throw new UnavailableException("interrupted while waiting for ArangoDB", e);
      } catch (Exception e) {
        throw unwrap(e);
      }
    };
    try {
      return Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(breaker, timed)).get();
    } catch (Transient t) {
      if (t.conflict) {
        throw new io.arangopipe.server.store.AbortedException("a concurrent write conflicted with this one in ArangoDB"
            + " and retries did not resolve it; retrying the call is safe", t);
      }
      throw new UnavailableException(t.getMessage(), t);
    } catch (CallNotPermittedException e) {
      throw new UnavailableException("ArangoDB is unreachable (the circuit breaker is open after repeated failures);"
          + " failing fast for up to " + options.breakerOpen().toSeconds() + " s before trying again", e);
    } catch (BulkheadFullException e) {
      throw new UnavailableException("too many calls are waiting for ArangoDB (" + options.maxConcurrent()
          + " at once); retry with backoff", e);
    }
  }

  private <T> T guarded(Attempt<T> attempt, AtomicBoolean cancelled) {
    try {
      return attempt.run(cancelled);
    } catch (ArangoDBException e) {
      RuntimeException r = Failures.classify(e);
      if (r instanceof Transient t && t.refresh) {
        refresh();
      }
      throw r;
    }
  }

  private static RuntimeException unwrap(Throwable t) {
    if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RuntimeException r) {
      return r;
    }
    return new IllegalStateException(t);
  }

  /** A failure after which the unit of work may be run again, or that the breaker counts. */
  static final class Transient extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final boolean retryable;
    final boolean infrastructure;
    boolean conflict;
    boolean refresh;

    Transient(String message, Throwable cause, boolean retryable, boolean infrastructure) {
      super(message, cause);
      this.retryable = retryable;
      this.infrastructure = infrastructure;
    }
  }

  /** Turns driver exceptions into the store's typed exceptions. */
  static final class Failures {
    private Failures() {}

    /** A 1210 inside a query: say which document is in the way. */
    static RuntimeException inQuery(ArangoDBException e, Aql q) {
      if (Integer.valueOf(1210).equals(e.getErrorNum())) {
        String collection = q.bindVars().entrySet().stream().filter(en -> en.getKey().startsWith("@"))
            .map(en -> Layout.logical(String.valueOf(en.getValue()))).findFirst().orElse("");
        return alreadyExists(e, collection);
      }
      return e;
    }

    static io.arangopipe.server.store.AlreadyExistsException alreadyExists(ArangoDBException e, String collection) {
      String msg = e.getErrorMessage() == null ? "" : e.getErrorMessage();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("conflicting key: ([^\\s;,]+)").matcher(msg);
      String existing = m.find() ? (collection.isEmpty() ? m.group(1) : collection + "/" + m.group(1)) : collection;
      return new io.arangopipe.server.store.AlreadyExistsException(existing,
          "a document with the same key or unique name already exists" + (existing.isEmpty() ? "" : ": " + existing)
              + " (ArangoDB 1210)");
    }

    static RuntimeException classify(ArangoDBException e) {
      Integer num = e.getErrorNum();
      Integer http = e.getResponseCode();
      if (num == null) {
        if (http != null && (http == 401 || http == 403)) {
          return new UnavailableException("ArangoDB refused the credentials (HTTP " + http + "); check"
              + " --arangodb-user and the password file", e);
        }
        if (http != null && http == 503 || transport(e)) {
          return new Transient("cannot reach ArangoDB: " + e.getMessage(), e, true, true);
        }
        return new IllegalStateException("unexpected ArangoDB driver failure: " + e.getMessage(), e);
      }
      switch (num) {
        case 1210:
          return alreadyExists(e, "");
        case 1202:
          return new io.arangopipe.server.store.NotFoundException("", "not found in ArangoDB: " + e.getErrorMessage());
        case 1203:
          return new io.arangopipe.server.store.NotFoundException("", "collection not found in ArangoDB: "
              + e.getErrorMessage(), "TYPE_NOT_FOUND");
        case 1228:
          return new UnavailableException("the ArangoDB database is gone: " + e.getErrorMessage(), e);
        case 11:
          return new UnavailableException("ArangoDB refused access: " + e.getErrorMessage(), e);
        default:
          break;
      }
      if (RETRY_NUMS.contains(num) || (http != null && http == 410)) {
        Transient t = new Transient("ArangoDB error " + num + ": " + e.getErrorMessage(), e, true,
            INFRA_NUMS.contains(num) || (http != null && http == 503));
        t.conflict = num == 1200 || num == 18 || num == 28 || num == 29 || num == 1302;
        t.refresh = num == 1652;
        return t;
      }
      if (http != null && http == 503) {
        return new Transient("ArangoDB is unavailable: " + e.getErrorMessage(), e, true, true);
      }
      return new IllegalStateException("ArangoDB error " + num + " (HTTP " + http + "): " + e.getErrorMessage(), e);
    }

    private static boolean transport(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof IOException || t instanceof TimeoutException
            || t.getClass().getSimpleName().equals("ArangoDBMultipleException")
            || (t.getMessage() != null && t.getMessage().contains("Cannot contact any host"))) {
          return true;
        }
      }
      return false;
    }
  }

  // ---- health and lifecycle ----------------------------------------------------------------------

  /** Asks ArangoDB for its version; on success a tripped breaker is closed again. */
  @Override
  public boolean probe() {
    if (closed) {
      return false;
    }
    try {
      CompletableFuture<Void> f = CompletableFuture.runAsync(() -> db.getVersion(), executor);
      f.get(settings.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
      if (breaker.getState() == CircuitBreaker.State.OPEN) {
        breaker.transitionToHalfOpenState();
      }
      return true;
    } catch (Exception e) {
      log.debug("ArangoDB health probe failed: {}", e.getMessage());
      return false;
    }
  }

  /** The breaker's state, for tests and logs. */
  CircuitBreaker.State breakerState() {
    return breaker.getState();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    adb.shutdown();
  }
}
