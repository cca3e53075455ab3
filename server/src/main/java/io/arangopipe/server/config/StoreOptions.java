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
      description = "Graph store: sqlite (embedded) or arangodb (see the --arangodb-* options)."
          + " Env ARANGOPIPE_STORE. Default: ${DEFAULT-VALUE}.")
  String store;

  @Option(names = "--arangodb-endpoints", defaultValue = "${env:ARANGOPIPE_ARANGODB_ENDPOINTS}", paramLabel = "URLS",
      description = "ArangoDB endpoints, comma-separated http://host:port or https://host:port (a cluster: its"
          + " Coordinators). Env ARANGOPIPE_ARANGODB_ENDPOINTS.")
  String arangoEndpoints;

  @Option(names = "--arangodb-database", defaultValue = "${env:ARANGOPIPE_ARANGODB_DATABASE:-arangopipe}",
      paramLabel = "NAME", description = "ArangoDB database, created if missing. Env ARANGOPIPE_ARANGODB_DATABASE."
          + " Default: ${DEFAULT-VALUE}.")
  String arangoDatabase;

  @Option(names = "--arangodb-user", defaultValue = "${env:ARANGOPIPE_ARANGODB_USER:-root}", paramLabel = "USER",
      description = "ArangoDB user. Env ARANGOPIPE_ARANGODB_USER. Default: ${DEFAULT-VALUE}.")
  String arangoUser;

  @Option(names = "--arangodb-password-file", defaultValue = "${env:ARANGOPIPE_ARANGODB_PASSWORD_FILE}",
      paramLabel = "FILE", description = "File holding the ArangoDB password; or give the password itself in the"
          + " environment variable ARANGOPIPE_ARANGODB_PASSWORD. Env ARANGOPIPE_ARANGODB_PASSWORD_FILE.")
  Path arangoPasswordFile;

  @Option(names = "--arangodb-ca-file", defaultValue = "${env:ARANGOPIPE_ARANGODB_CA_FILE}", paramLabel = "FILE",
      description = "PEM CA certificate(s) to trust for https:// endpoints (default: the JVM's trust store)."
          + " Env ARANGOPIPE_ARANGODB_CA_FILE.")
  Path arangoCaFile;

  @Option(names = "--arangodb-graph", defaultValue = "${env:ARANGOPIPE_ARANGODB_GRAPH:-enterprise_ml_graph}",
      paramLabel = "NAME", description = "Named graph, created if missing (the seed library's name by default)."
          + " Env ARANGOPIPE_ARANGODB_GRAPH. Default: ${DEFAULT-VALUE}.")
  String arangoGraph;

  @Option(names = "--arangodb-protocol", defaultValue = "${env:ARANGOPIPE_ARANGODB_PROTOCOL:-http2}",
      paramLabel = "PROTOCOL", description = "http2, or http1 (HTTP/1.1, e.g. through a proxy that only speaks it)."
          + " Env ARANGOPIPE_ARANGODB_PROTOCOL. Default: ${DEFAULT-VALUE}.")
  String arangoProtocol;

  @Option(names = "--arangodb-max-connections", defaultValue = "${env:ARANGOPIPE_ARANGODB_MAX_CONNECTIONS}",
      paramLabel = "N", description = "Connections per endpoint (default: 1 with http2, 8 with http1; at least 3"
          + " with http1). Env ARANGOPIPE_ARANGODB_MAX_CONNECTIONS.")
  Integer arangoMaxConnections;

  @Option(names = "--arangodb-timeout", defaultValue = "${env:ARANGOPIPE_ARANGODB_TIMEOUT:-10}", paramLabel = "SECONDS",
      description = "The driver's connect and request time-out. Env ARANGOPIPE_ARANGODB_TIMEOUT."
          + " Default: ${DEFAULT-VALUE}.")
  long arangoTimeoutSeconds;

  @Option(names = "--arangodb-replication-factor",
      defaultValue = "${env:ARANGOPIPE_ARANGODB_REPLICATION_FACTOR:-1}", paramLabel = "N",
      description = "Copies of each shard of the database and collections it creates (cluster)."
          + " Env ARANGOPIPE_ARANGODB_REPLICATION_FACTOR. Default: ${DEFAULT-VALUE}.")
  int arangoReplicationFactor;

  @Option(names = "--arangodb-write-concern", defaultValue = "${env:ARANGOPIPE_ARANGODB_WRITE_CONCERN:-1}",
      paramLabel = "N", description = "In-sync copies a write needs (cluster; at most the replication factor)."
          + " Env ARANGOPIPE_ARANGODB_WRITE_CONCERN. Default: ${DEFAULT-VALUE}.")
  int arangoWriteConcern;

  @Option(names = "--arangodb-shards", defaultValue = "${env:ARANGOPIPE_ARANGODB_SHARDS:-1}", paramLabel = "N",
      description = "Shards of each collection it creates (cluster). Env ARANGOPIPE_ARANGODB_SHARDS."
          + " Default: ${DEFAULT-VALUE}.")
  int arangoShards;

  @Option(names = "--arangodb-one-shard", defaultValue = "${env:ARANGOPIPE_ARANGODB_ONE_SHARD:-false}",
      description = "Create the database as OneShard (cluster: every collection on one DB-Server, fully ACID"
          + " transactions). Env ARANGOPIPE_ARANGODB_ONE_SHARD.")
  boolean arangoOneShard;

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
        ServerConfig.AuthMode.OFF, null, null, 100, null, "127.0.0.1", false, arango());
  }

  /**
   * The ArangoDB settings with {@code --store arangodb}, else null.
   *
   * @throws IllegalArgumentException an invalid or missing ArangoDB option
   */
  public io.arangopipe.server.store.arangodb.ArangoSettings arango() {
    if (!"arangodb".equals(store)) {
      return null;
    }
    if (arangoEndpoints == null || arangoEndpoints.isBlank()) {
      throw new IllegalArgumentException("--store arangodb needs --arangodb-endpoints (or ARANGOPIPE_ARANGODB_ENDPOINTS),"
          + " e.g. http://localhost:8529");
    }
    String password = Secrets.read(arangoPasswordFile, "ARANGOPIPE_ARANGODB_PASSWORD", "--arangodb-password-file");
    boolean http2;
    switch (arangoProtocol.toLowerCase(java.util.Locale.ROOT)) {
      case "http2" -> http2 = true;
      case "http1" -> http2 = false;
      default -> throw new IllegalArgumentException("--arangodb-protocol must be http2 or http1 (got \""
          + arangoProtocol + "\")");
    }
    int connections = arangoMaxConnections != null ? arangoMaxConnections : http2 ? 1 : 8;
    java.util.List<String> endpoints = java.util.Arrays.stream(arangoEndpoints.split(","))
        .map(String::strip).filter(e -> !e.isEmpty()).toList();
    return new io.arangopipe.server.store.arangodb.ArangoSettings(endpoints, arangoDatabase, arangoUser,
        password == null ? "" : password, arangoCaFile, arangoGraph, http2, connections,
        Duration.ofSeconds(arangoTimeoutSeconds), arangoReplicationFactor, arangoWriteConcern, arangoShards,
        arangoOneShard);
  }
}
