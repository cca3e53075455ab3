package io.arangopipe.server;

import io.arangopipe.server.api.AdminServiceImpl;
import io.arangopipe.server.api.AuthInterceptor;
import io.arangopipe.server.api.MalformedRequestInterceptor;
import io.arangopipe.server.api.MetricsInterceptor;
import io.arangopipe.server.api.LineageServiceImpl;
import io.arangopipe.server.api.TrackingServiceImpl;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.core.Accounts;
import io.arangopipe.server.metrics.MetricsServer;
import io.arangopipe.server.core.Analytics;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service: store, core, the three services, health and reflection on one gRPC server. Tests
 * pass their own {@link ServerBuilder} (e.g. an in-process one); {@link Main} uses Netty on a socket.
 */
public final class ArangopipeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ArangopipeServer.class);

  /**
   * A health service name that says only whether the process serves gRPC: SERVING from start until
   * shutdown, whatever the store's state. Liveness probes ask for it, so that a database outage (which
   * turns "" and {@link #SERVICE_NAMES} NOT_SERVING, see {@link HealthWatch}) takes pods out of the
   * Service through readiness but does not get them restarted.
   */
  public static final String LIVENESS_SERVICE = "liveness";

  /** The services whose health is reported, besides the whole server (""). */
  public static final List<String> SERVICE_NAMES = List.of(AdminServiceGrpc.SERVICE_NAME,
      TrackingServiceGrpc.SERVICE_NAME, LineageServiceGrpc.SERVICE_NAME);

  private final ServerConfig config;
  private final GraphStore store;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ExecutorService executor;

  /** Passes a message's bytes through as they are: see where the services are bound. */
  private static final io.grpc.MethodDescriptor.Marshaller<java.io.InputStream> RAW =
      new io.grpc.MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(java.io.InputStream value) {
          return value;
        }

        @Override
        public java.io.InputStream parse(java.io.InputStream stream) {
          return stream;
        }
      };
  private final Server server;
  private final boolean authEnabled;
  private final MetricsServer metrics;
  private volatile boolean closed;
  private HealthWatch healthWatch;

  /** How often health asks the store whether its database is reachable. */
  static final java.time.Duration HEALTH_INTERVAL = java.time.Duration.ofSeconds(2);


  /**
   * Opens the store and starts serving.
   *
   * @param builder where to serve; {@code null} for Netty on {@code config.bind():config.port()}
   */
  public ArangopipeServer(ServerConfig config, ServerBuilder<?> builder) throws IOException {
    this.config = config;
    this.metrics = config.metricsPort() == null ? null : new MetricsServer();
    io.micrometer.core.instrument.MeterRegistry registry = metrics == null
        ? new io.micrometer.core.instrument.composite.CompositeMeterRegistry() : metrics.registry();
    this.store = Stores.open(config, registry, () -> {
      io.grpc.Context call = io.grpc.Context.current();
      return call::isCancelled;
    });
    try {
      MetadataCore core = new MetadataCore(store, Clock.systemUTC());
      Analytics analytics = new Analytics(store, core);
      Accounts accounts = new Accounts(store, Clock.systemUTC());
      if (config.adminToken() != null && config.auth() != ServerConfig.AuthMode.OFF) {
        if (accounts.bootstrap(config.adminToken())) {
          log.info("created the server administrator \"admin\" with the given token");
        } else {
          log.info("users exist already; the administrator token given at start-up is not used");
        }
      }
      this.authEnabled = switch (config.auth()) {
        case ON -> true;
        case OFF -> false;
        case AUTO -> config.adminToken() != null || accounts.hasUsers();
      };
      if (authEnabled && !accounts.hasUsers()) {
        throw new IllegalStateException("authentication is on but no user exists: give the first administrator's"
            + " token with --admin-token-file or the ARANGOPIPE_ADMIN_TOKEN environment variable");
      }
      if (!authEnabled && !ServerConfig.isLoopback(config.bind()) && !config.allowInsecureRemote()) {
        throw new IllegalStateException("--bind " + config.bind() + " without authentication would let anyone who"
            + " reaches the port read and change all metadata; give an administrator token (see --help), or pass"
            + " --allow-insecure-remote if you really mean it");
      }
      AuthInterceptor auth = new AuthInterceptor(accounts);
      MalformedRequestInterceptor malformed = new MalformedRequestInterceptor();
      MetricsInterceptor timing = new MetricsInterceptor(registry);
      AtomicInteger n = new AtomicInteger();
      this.executor = Executors.newFixedThreadPool(config.threads(), r -> {
        Thread t = new Thread(r, "arangopipe-rpc-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      ServerBuilder<?> b = builder != null ? builder : netty(config);
      b.executor(executor)
          .maxInboundMessageSize(config.maxMessageBytes())
          .maxInboundMetadataSize(16 * 1024);
      for (BindableService s : List.<BindableService>of(new AdminServiceImpl(core, accounts, authEnabled),
          new TrackingServiceImpl(core, analytics, executor), new LineageServiceImpl(core, analytics))) {
        // Requests arrive as bytes and are parsed inside the interceptor chain, so that a malformed one
        // becomes INVALID_ARGUMENT instead of UNKNOWN. Answers pass through as the protobuf marshaller's
        // own stream, which the transport drains straight into its buffer (ServerInterceptors'
        // useInputStreamMessages would buffer and copy each answer twice, through 16 KiB of new arrays).
        io.grpc.ServerServiceDefinition def = ServerInterceptors.useMarshalledMessages(s.bindService(), RAW, RAW);
        b.addService(authEnabled ? ServerInterceptors.intercept(def, malformed, auth, timing)
            : ServerInterceptors.intercept(def, malformed, timing));
      }
      for (BindableService s : List.<BindableService>of(health.getHealthService(),
          ProtoReflectionServiceV1.newInstance(), reflectionV1Alpha())) {
        b.addService(s);
      }
      this.server = b.build().start();
      if (metrics != null) {
        metrics.start(config.metricsBind(), config.metricsPort());
      }
      for (String name : SERVICE_NAMES) {
        health.setStatus(name, ServingStatus.SERVING);
      }
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
      health.setStatus(LIVENESS_SERVICE, ServingStatus.SERVING);
      this.healthWatch = new HealthWatch(store, health, SERVICE_NAMES).start(HEALTH_INTERVAL);
    } catch (IOException | RuntimeException e) {
      store.close();
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
    if (config.portFile() != null) {
      writePortFile(config.portFile(), port());
    }
  }

  /**
   * Netty on a socket, with the transport limits: concurrent calls per connection, keepalive policing,
   * HTTP/2 rapid-reset protection, and TLS when configured. Public so that a benchmark can add a service
   * of its own to the same transport (benchmarks/ BenchServer) and pass the builder to the constructor.
   */
  public static ServerBuilder<?> netty(ServerConfig config) throws IOException {
    NettyServerBuilder n = NettyServerBuilder.forAddress(new InetSocketAddress(config.bind(), config.port()))
        .maxConcurrentCallsPerConnection(config.maxCallsPerConnection())
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(false)
        .maxConnectionIdle(30, TimeUnit.MINUTES)
        // Against HTTP/2 rapid reset. Every call a client cancels, or whose deadline passes, is one RST_STREAM
        // too: at 200 per 10 s a burst of ordinary timeouts closed the connection and failed the calls beside
        // them (TinyDeadlinesIT). 2000 per 10 s still holds a resetting client to 200 streams/s per connection.
        .maxRstFramesPerWindow(2000, 10);
    ServerConfig.Tls tls = config.tls();
    if (tls != null) {
      try {
        io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder ssl =
            io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forServer(tls.cert().toFile(), tls.key().toFile());
        if (tls.clientCa() != null) {
          ssl.trustManager(tls.clientCa().toFile());
        }
        ssl.clientAuth(switch (tls.clientAuth()) {
          case NONE -> io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.NONE;
          case OPTIONAL -> io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.OPTIONAL;
          case REQUIRE -> io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.REQUIRE;
        });
        n.sslContext(ssl.build());
      } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
        throw new IOException("cannot set up TLS from --tls-cert " + tls.cert() + " and --tls-key " + tls.key()
            + ": " + e.getMessage(), e);
      }
    }
    return n;
  }

  /** Whether calls must carry a bearer token. */
  public boolean authEnabled() {
    return authEnabled;
  }

  @SuppressWarnings("deprecation")
  private static BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }

  private static void writePortFile(Path file, int port) {
    try {
      Path abs = file.toAbsolutePath();
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
      Files.writeString(tmp, port + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write --port-file " + file + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (-1 for in-process servers). */
  public int port() {
    return server.getPort();
  }

  public String storeDescription() {
    return store.describe();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Graceful shutdown: report NOT_SERVING, stop accepting calls, let in-flight calls finish within the
   * grace period, cancel what is left, then close the store (which finishes queued writes).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (healthWatch != null) {
      healthWatch.close();
    }
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("calls still running after the {} s grace period; cancelling them",
            config.shutdownGrace().toSeconds());
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
    if (metrics != null) {
      metrics.close();
    }
  }

  /** The metrics port, or -1 when metrics are off. */
  public int metricsPort() {
    return metrics == null ? -1 : metrics.port();
  }
}
