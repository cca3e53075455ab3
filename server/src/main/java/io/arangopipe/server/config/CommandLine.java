package io.arangopipe.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command-line options; each has an {@code ARANGOPIPE_*} environment variable, and the flag wins. */
@Command(
    name = "arangopipe-server",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLine.Version.class,
    sortOptions = false,
    usageHelpWidth = 120,
    description = "Arangopipe: the metadata layer for machine-learning pipelines, as a gRPC service.",
    footer = {"", "Every option can also be set with the environment variable shown; the flag wins."})
public final class CommandLine implements Callable<ServerConfig> {

  @Option(names = "--port", defaultValue = "${env:ARANGOPIPE_PORT:-6529}", paramLabel = "PORT",
      description = "gRPC port; 0 picks a free one. Env ARANGOPIPE_PORT. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--bind", defaultValue = "${env:ARANGOPIPE_BIND:-127.0.0.1}", paramLabel = "ADDRESS",
      description = "Address to listen on. Anything but loopback needs --allow-insecure-remote until"
          + " authentication is configured. Env ARANGOPIPE_BIND. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--data-dir", defaultValue = "${env:ARANGOPIPE_DATA_DIR:-./arangopipe-data}", paramLabel = "DIR",
      description = "Folder of the embedded store, created if missing. Default: ${DEFAULT-VALUE}."
          + " Env ARANGOPIPE_DATA_DIR.")
  Path dataDir;

  @Option(names = "--store", defaultValue = "${env:ARANGOPIPE_STORE:-sqlite}", paramLabel = "KIND",
      description = "Graph store: sqlite (embedded) or arangodb (see the --arangodb-* options)."
          + " Env ARANGOPIPE_STORE. Default: ${DEFAULT-VALUE}.")
  String store;

  @Option(names = "--port-file", defaultValue = "${env:ARANGOPIPE_PORT_FILE}", paramLabel = "FILE",
      description = "Write the bound port to FILE once serving (useful with --port 0)."
          + " Env ARANGOPIPE_PORT_FILE.")
  Path portFile;

  @Option(names = "--threads", defaultValue = "${env:ARANGOPIPE_THREADS:-16}", paramLabel = "N",
      description = "Threads serving calls. Env ARANGOPIPE_THREADS. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(names = "--shutdown-grace", defaultValue = "${env:ARANGOPIPE_SHUTDOWN_GRACE:-10}", paramLabel = "SECONDS",
      description = "On shutdown, how long in-flight calls may take to finish. Env ARANGOPIPE_SHUTDOWN_GRACE."
          + " Default: ${DEFAULT-VALUE}.")
  long shutdownGraceSeconds;

  @Option(names = "--max-batch", defaultValue = "${env:ARANGOPIPE_MAX_BATCH:-256}", paramLabel = "N",
      description = "Most writes the embedded store commits together (group commit). Env ARANGOPIPE_MAX_BATCH."
          + " Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(names = "--max-message-size", defaultValue = "${env:ARANGOPIPE_MAX_MESSAGE_SIZE:-4194304}",
      paramLabel = "BYTES",
      description = "Largest request accepted. Env ARANGOPIPE_MAX_MESSAGE_SIZE. Default: ${DEFAULT-VALUE}.")
  int maxMessageSize;

  @Option(names = "--allow-insecure-remote",
      defaultValue = "${env:ARANGOPIPE_ALLOW_INSECURE_REMOTE:-false}",
      description = "Allow --bind beyond loopback without authentication (logged as a warning at every"
          + " start). Env ARANGOPIPE_ALLOW_INSECURE_REMOTE.")
  boolean allowInsecureRemote;

  @Option(names = "--auth", defaultValue = "${env:ARANGOPIPE_AUTH:-auto}", paramLabel = "MODE",
      description = "Bearer-token authentication: auto (on when an administrator token is given or users exist),"
          + " on, or off (loopback only). Env ARANGOPIPE_AUTH. Default: ${DEFAULT-VALUE}.")
  String auth;

  @Option(names = "--admin-token-file", defaultValue = "${env:ARANGOPIPE_ADMIN_TOKEN_FILE}", paramLabel = "FILE",
      description = "File holding the first server administrator's token (user \"admin\"), used at first start"
          + " to create it. The token can also come from the environment variable ARANGOPIPE_ADMIN_TOKEN."
          + " Env ARANGOPIPE_ADMIN_TOKEN_FILE.")
  Path adminTokenFile;

  @Option(names = "--tls-cert", defaultValue = "${env:ARANGOPIPE_TLS_CERT}", paramLabel = "FILE",
      description = "Serve TLS with this PEM certificate chain (with --tls-key). Env ARANGOPIPE_TLS_CERT.")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:ARANGOPIPE_TLS_KEY}", paramLabel = "FILE",
      description = "The PEM (PKCS#8) private key of --tls-cert. Env ARANGOPIPE_TLS_KEY.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", defaultValue = "${env:ARANGOPIPE_TLS_CLIENT_CA}", paramLabel = "FILE",
      description = "Verify client certificates against these PEM CAs (mutual TLS). Env ARANGOPIPE_TLS_CLIENT_CA.")
  Path tlsClientCa;

  @Option(names = "--tls-client-auth", defaultValue = "${env:ARANGOPIPE_TLS_CLIENT_AUTH}", paramLabel = "MODE",
      description = "none, optional or require (default: require when --tls-client-ca is given, else none)."
          + " Env ARANGOPIPE_TLS_CLIENT_AUTH.")
  String tlsClientAuth;

  @Option(names = "--max-calls-per-connection", defaultValue = "${env:ARANGOPIPE_MAX_CALLS_PER_CONNECTION:-100}",
      paramLabel = "N", description = "Concurrent calls one client connection may have open."
          + " Env ARANGOPIPE_MAX_CALLS_PER_CONNECTION. Default: ${DEFAULT-VALUE}.")
  int maxCallsPerConnection;

  @Option(names = "--metrics-port", defaultValue = "${env:ARANGOPIPE_METRICS_PORT}", paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics (off when not set)."
          + " Env ARANGOPIPE_METRICS_PORT.")
  Integer metricsPort;

  @Option(names = "--metrics-bind", defaultValue = "${env:ARANGOPIPE_METRICS_BIND}", paramLabel = "ADDRESS",
      description = "Address of the metrics port (default: the --bind address). Env ARANGOPIPE_METRICS_BIND.")
  String metricsBind;

  @Option(names = "--log-format", defaultValue = "${env:ARANGOPIPE_LOG_FORMAT:-text}", paramLabel = "FORMAT",
      description = "text, or json for one JSON object per line. Env ARANGOPIPE_LOG_FORMAT. Default: ${DEFAULT-VALUE}.")
  String logFormat;


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

  @Override
  public ServerConfig call() {
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      throw new IllegalArgumentException("--log-format must be text or json (got \"" + logFormat + "\")");
    }
    ServerConfig.AuthMode mode;
    try {
      mode = ServerConfig.AuthMode.valueOf(auth.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--auth must be auto, on or off (got \"" + auth + "\")");
    }
    String token = System.getenv("ARANGOPIPE_ADMIN_TOKEN");
    if (adminTokenFile != null) {
      try {
        token = java.nio.file.Files.readString(adminTokenFile).strip();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--admin-token-file " + adminTokenFile + " cannot be read: "
            + e.getMessage());
      }
    }
    if (token != null && token.isBlank()) {
      token = null;
    }
    ServerConfig.Tls tls = null;
    if (tlsCert != null || tlsKey != null) {
      if (tlsCert == null || tlsKey == null) {
        throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
      }
      ServerConfig.ClientAuth ca;
      if (tlsClientAuth == null || tlsClientAuth.isBlank()) {
        ca = tlsClientCa == null ? ServerConfig.ClientAuth.NONE : ServerConfig.ClientAuth.REQUIRE;
      } else {
        try {
          ca = ServerConfig.ClientAuth.valueOf(tlsClientAuth.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--tls-client-auth must be none, optional or require");
        }
      }
      tls = new ServerConfig.Tls(tlsCert, tlsKey, tlsClientCa, ca);
    } else if (tlsClientCa != null) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return new ServerConfig(port, bind, dataDir, store, portFile, threads, Duration.ofSeconds(shutdownGraceSeconds),
        maxBatch, maxMessageSize, allowInsecureRemote, mode, token, tls, maxCallsPerConnection, metricsPort,
        metricsBind == null || metricsBind.isBlank() ? bind : metricsBind, logFormat.equals("json"), arango());
  }

  /** The ArangoDB settings with --store arangodb, else null. */
  private io.arangopipe.server.store.arangodb.ArangoSettings arango() {
    if (!"arangodb".equals(store)) {
      return null;
    }
    if (arangoEndpoints == null || arangoEndpoints.isBlank()) {
      throw new IllegalArgumentException("--store arangodb needs --arangodb-endpoints (or ARANGOPIPE_ARANGODB_ENDPOINTS),"
          + " e.g. http://localhost:8529");
    }
    String password = System.getenv("ARANGOPIPE_ARANGODB_PASSWORD");
    if (arangoPasswordFile != null) {
      try {
        password = java.nio.file.Files.readString(arangoPasswordFile).strip();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--arangodb-password-file " + arangoPasswordFile + " cannot be read: "
            + e.getMessage());
      }
    }
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

  /** Version from the jar manifest when there is one. */
  public static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = CommandLine.class.getPackage().getImplementationVersion();
      return new String[] {"arangopipe-server " + (v == null ? "dev" : v)};
    }
  }
}
