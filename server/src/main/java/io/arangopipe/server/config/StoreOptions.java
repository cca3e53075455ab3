package io.arangopipe.server.config;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options that say which store to open, shared by {@code serve} and the offline commands
 * ({@code export}, {@code import}), so that each command opens the store the same way.
 */
public final class StoreOptions {

  @Option(names = "--data-dir", defaultValue = "${env:ARANGOPIPE_DATA_DIR:-./arangopipe-data}", paramLabel = "DIR",
      description = "Folder of the embedded store, created if missing. Default: ${DEFAULT-VALUE}."
          + " Env ARANGOPIPE_DATA_DIR.")
  Path dataDir;

  @Option(names = "--store", defaultValue = "${env:ARANGOPIPE_STORE:-sqlite}", paramLabel = "KIND",
      description = "Graph store: sqlite (embedded). Env ARANGOPIPE_STORE. Default: ${DEFAULT-VALUE}.")
  String store;

  public Path dataDir() {
    return dataDir;
  }

  public String store() {
    return store;
  }

  /**
   * A configuration for an offline command: these store options, everything else at its default (no
   * server is started from it).
   *
   * @throws IllegalArgumentException an invalid option
   */
  public ServerConfig toServerConfig() {
    return new ServerConfig(0, "127.0.0.1", dataDir, store, null, 1, Duration.ZERO, 256, 4 << 20, false,
        ServerConfig.AuthMode.OFF, null, null, 100, null, "127.0.0.1", false);
  }
}
