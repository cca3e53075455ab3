package io.arangopipe.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The server's configuration: built once at start-up from flags and environment, validated, then passed
 * through constructors.
 *
 * @param port gRPC port; 0 picks a free one
 * @param bind the address to listen on
 * @param dataDir where the embedded store keeps its files
 * @param store which store: {@code sqlite}
 * @param portFile if set, the bound port is written there once the server is serving
 * @param threads the RPC executor's size
 * @param shutdownGrace how long in-flight calls may take to finish at shutdown
 * @param maxBatch most writes committed together by the embedded store
 * @param maxMessageBytes largest accepted request
 * @param allowInsecureRemote listen beyond loopback without authentication
 * @param auth whether calls must carry a bearer token
 * @param adminToken the first server administrator's token (used at first start only), or null
 * @param tls TLS settings, or null for plaintext
 * @param maxCallsPerConnection concurrent calls one connection may have open
 * @param metricsPort Prometheus metrics port (0 picks a free one), or null for no metrics
 * @param metricsBind the metrics port's address
 * @param jsonLogs log JSON lines instead of text
 * @param arango the ArangoDB store's settings when {@code store} is {@code arangodb}, else null
 */
public record ServerConfig(
    int port,
    String bind,
    Path dataDir,
    String store,
    Path portFile,
    int threads,
    Duration shutdownGrace,
    int maxBatch,
    int maxMessageBytes,
    boolean allowInsecureRemote,
    AuthMode auth,
    String adminToken,
    Tls tls,
    int maxCallsPerConnection,
    Integer metricsPort,
    String metricsBind,
    boolean jsonLogs,
    io.arangopipe.server.store.arangodb.ArangoSettings arango) {

  /** Authentication: AUTO is on when an administrator token is given or users exist. */
  public enum AuthMode {
    AUTO,
    ON,
    OFF
  }

  /** Which client certificates the server asks for. */
  public enum ClientAuth {
    NONE,
    OPTIONAL,
    REQUIRE
  }

  /**
   * TLS material (PEM files).
   *
   * @param cert the server's certificate chain
   * @param key the server's private key (PKCS#8)
   * @param clientCa CAs that sign client certificates, or null
   * @param clientAuth whether client certificates are required
   */
  public record Tls(Path cert, Path key, Path clientCa, ClientAuth clientAuth) {
    public Tls {
      Objects.requireNonNull(cert, "--tls-cert");
      Objects.requireNonNull(key, "--tls-key");
      if (clientAuth != ClientAuth.NONE && clientCa == null) {
        throw new IllegalArgumentException("--tls-client-auth " + clientAuth.name().toLowerCase()
            + " needs --tls-client-ca");
      }
    }
  }

  public ServerConfig {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535 (got " + port + ")");
    }
    if (!store.equals("sqlite") && !store.equals("arangodb")) {
      throw new IllegalArgumentException("--store must be \"sqlite\" or \"arangodb\" (got \"" + store + "\")");
    }
    if (store.equals("arangodb") && arango == null) {
      throw new IllegalArgumentException("--store arangodb needs --arangodb-endpoints");
    }
    if (threads < 1 || threads > 1024) {
      throw new IllegalArgumentException("--threads must be between 1 and 1024 (got " + threads + ")");
    }
    if (maxBatch < 1 || maxBatch > 10_000) {
      throw new IllegalArgumentException("--max-batch must be between 1 and 10000 (got " + maxBatch + ")");
    }
    if (maxMessageBytes < 1024 || maxMessageBytes > 64 << 20) {
      throw new IllegalArgumentException("--max-message-size must be between 1024 and 67108864 bytes (got "
          + maxMessageBytes + ")");
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("--shutdown-grace must not be negative");
    }
    Objects.requireNonNull(auth, "auth");
    if (!isLoopback(bind) && auth == AuthMode.OFF && !allowInsecureRemote) {
      throw new IllegalArgumentException("--bind " + bind + " with --auth off would expose the server beyond this"
          + " machine without authentication; turn authentication on, or pass --allow-insecure-remote if you"
          + " really mean it");
    }
    if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
      throw new IllegalArgumentException("--metrics-port must be between 0 and 65535 (got " + metricsPort + ")");
    }
    if (maxCallsPerConnection < 1) {
      throw new IllegalArgumentException("--max-calls-per-connection must be positive");
    }
  }

  /** Defaults for tests and embedding: a free port on loopback. */
  public static ServerConfig forTests(Path dataDir) {
    return new ServerConfig(0, "127.0.0.1", dataDir, "sqlite", null, 8, Duration.ofSeconds(5), 256, 4 << 20, false,
        AuthMode.OFF, null, null, 100, null, "127.0.0.1", false, null);
  }

  /** The same configuration with another authentication mode. */
  public ServerConfig withAuthMode(AuthMode mode) {
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, shutdownGrace, maxBatch, maxMessageBytes,
        allowInsecureRemote, mode, adminToken, tls, maxCallsPerConnection, metricsPort, metricsBind, jsonLogs, arango);
  }

  /** The same configuration with metrics on a free port. */
  public ServerConfig withMetrics() {
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, shutdownGrace, maxBatch, maxMessageBytes,
        allowInsecureRemote, auth, adminToken, tls, maxCallsPerConnection, 0, bind, jsonLogs, arango);
  }

  /** The same configuration with authentication on and the given bootstrap administrator token. */
  public ServerConfig withAuth(String token) {
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, shutdownGrace, maxBatch, maxMessageBytes,
        allowInsecureRemote, AuthMode.ON, token, tls, maxCallsPerConnection, metricsPort, metricsBind, jsonLogs, arango);
  }

  /** The same configuration with TLS. */
  public ServerConfig withTls(Tls t) {
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, shutdownGrace, maxBatch, maxMessageBytes,
        allowInsecureRemote, auth, adminToken, t, maxCallsPerConnection, metricsPort, metricsBind, jsonLogs, arango);
  }

  /** The same configuration on the ArangoDB store. */
  public ServerConfig withArango(io.arangopipe.server.store.arangodb.ArangoSettings a) {
    return new ServerConfig(port, bind, dataDir, "arangodb", portFile, threads, shutdownGrace, maxBatch, maxMessageBytes,
        allowInsecureRemote, auth, adminToken, tls, maxCallsPerConnection, metricsPort, metricsBind, jsonLogs, a);
  }

  @Override
  public String toString() {
    return "ServerConfig[port=" + port + ", bind=" + bind + ", dataDir=" + dataDir + ", auth=" + auth
        + ", adminToken=" + (adminToken == null ? "none" : "(set)") + ", tls=" + tls + ", store=" + store
        + (arango == null ? "" : ", " + arango) + "]";
  }

  public static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
