package io.arangopipe.server;

import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.store.Cancellation;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.arangodb.ArangoStore;
import io.arangopipe.server.store.sqlite.SqliteStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Opens the store a configuration names. {@code serve}, {@code export} and {@code import} all open their
 * store here, so a store option works the same for each of them.
 */
public final class Stores {
  private Stores() {}

  /**
   * Opens the configured store, creating what is missing (an empty embedded store in a new folder).
   *
   * @throws io.arangopipe.server.store.sqlite.DataFolderInUseException another process uses the data folder
   * @throws IllegalStateException the data was written by a newer release
   * @throws io.arangopipe.server.store.UnavailableException the store cannot be opened
   */
  public static GraphStore open(ServerConfig config, MeterRegistry registry, Cancellation cancellation) {
    if (config.store().equals("arangodb")) {
      return ArangoStore.open(config.arango(), ArangoStore.Options.defaults()
          .withMetrics(registry)
          .withDeadline(() -> {
            io.grpc.Deadline d = io.grpc.Context.current().getDeadline();
            return d == null ? null : Duration.ofNanos(Math.max(0, d.timeRemaining(TimeUnit.NANOSECONDS)));
          }));
    }
    return SqliteStore.open(config.dataDir(), SqliteStore.Options.defaults()
        .withMaxBatch(config.maxBatch())
        .withMetrics(registry)
        .withCancellation(cancellation));
  }

  /**
   * Opens the configured store only if it holds data already: reading from a store must not create one
   * (an empty folder from a mistyped {@code --data-dir}).
   *
   * @throws IllegalArgumentException there is no such store
   */
  public static GraphStore openExisting(ServerConfig config, MeterRegistry registry) {
    if (config.store().equals("sqlite") && !Files.isRegularFile(config.dataDir().resolve("arangopipe.db"))) {
      throw new IllegalArgumentException("--data-dir " + config.dataDir() + " holds no embedded store (no "
          + config.dataDir().resolve("arangopipe.db") + ")");
    }
    return open(config, registry, Cancellation.NEVER);
  }
}
