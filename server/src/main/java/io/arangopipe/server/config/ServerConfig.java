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
    boolean allowInsecureRemote) {

  public ServerConfig {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535 (got " + port + ")");
    }
    if (!store.equals("sqlite")) {
      throw new IllegalArgumentException("--store must be \"sqlite\" (got \"" + store + "\")");
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
    if (!isLoopback(bind) && !allowInsecureRemote) {
      throw new IllegalArgumentException("--bind " + bind + " would expose the server beyond this machine without"
          + " authentication; bind to 127.0.0.1, or pass --allow-insecure-remote if you really mean it");
    }
  }

  /** Defaults for tests and embedding: a free port on loopback. */
  public static ServerConfig forTests(Path dataDir) {
    return new ServerConfig(0, "127.0.0.1", dataDir, "sqlite", null, 8, Duration.ofSeconds(5), 256, 4 << 20, false);
  }

  public static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
