package io.arangopipe.server.store.arangodb;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to reach ArangoDB and what to create there.
 *
 * @param endpoints one or more {@code http://host:port} / {@code https://host:port} (cluster: the
 *     Coordinators); {@code host:port} means http
 * @param database the database (created if missing)
 * @param user the user
 * @param password the password (from a file or the environment, never a flag); never printed
 * @param caFile PEM CA certificate to trust for https endpoints, or null for the JVM's trust store
 * @param graph the named graph (created if missing); the seed library's is {@code enterprise_ml_graph}
 * @param http2 HTTP/2 (the driver's default) or HTTP/1.1
 * @param maxConnections connections per endpoint (at least 3 with HTTP/1.1)
 * @param timeout the driver's connect and request time-out
 * @param replicationFactor copies of each shard of created collections (cluster)
 * @param writeConcern in-sync copies a write needs (cluster; at most the replication factor)
 * @param shards shards of each created collection (cluster)
 * @param oneShard create the database as OneShard ({@code sharding: "single"}): every collection on one
 *     DB-Server, fully ACID multi-collection transactions and enforceable unique names (Enterprise or 3.12.5+)
 */
public record ArangoSettings(
    List<String> endpoints,
    String database,
    String user,
    String password,
    Path caFile,
    String graph,
    boolean http2,
    int maxConnections,
    Duration timeout,
    int replicationFactor,
    int writeConcern,
    int shards,
    boolean oneShard) {

  public static final String SEED_GRAPH = "enterprise_ml_graph";

  public ArangoSettings {
    endpoints = List.copyOf(endpoints);
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("--arangodb-endpoints must name at least one endpoint, e.g."
          + " http://localhost:8529");
    }
    for (String e : endpoints) {
      Endpoint.parse(e);
    }
    Objects.requireNonNull(database, "database");
    if (!Aql.COLLECTION.matcher(database).matches()) {
      throw new IllegalArgumentException("--arangodb-database must be a letter followed by letters, digits, '_'"
          + " or '-' (got \"" + database + "\")");
    }
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    if (!Aql.COLLECTION.matcher(graph).matches()) {
      throw new IllegalArgumentException("--arangodb-graph must be a letter followed by letters, digits, '_' or"
          + " '-' (got \"" + graph + "\")");
    }
    if (!http2 && maxConnections < 3) {
      throw new IllegalArgumentException("--arangodb-max-connections must be at least 3 with HTTP/1.1 (got "
          + maxConnections + "): with fewer, driver releases before 7.24.1 could hang on a dead server");
    }
    if (maxConnections < 1 || maxConnections > 1024) {
      throw new IllegalArgumentException("--arangodb-max-connections must be between 1 and 1024");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("--arangodb-timeout must be positive");
    }
    if (replicationFactor < 1 || writeConcern < 1 || writeConcern > replicationFactor) {
      throw new IllegalArgumentException("--arangodb-write-concern must be between 1 and --arangodb-replication-factor"
          + " (got " + writeConcern + " and " + replicationFactor + ")");
    }
    if (shards < 1 || shards > 1000) {
      throw new IllegalArgumentException("--arangodb-shards must be between 1 and 1000");
    }
  }

  /** A host and port, with TLS or not. */
  public record Endpoint(String host, int port, boolean tls) {
    public static Endpoint parse(String s) {
      String rest = s.strip();
      boolean tls = false;
      if (rest.startsWith("https://")) {
        tls = true;
        rest = rest.substring(8);
      } else if (rest.startsWith("http://")) {
        rest = rest.substring(7);
      } else if (rest.contains("://")) {
        throw new IllegalArgumentException("--arangodb-endpoints: \"" + s + "\" must be http://host:port or"
            + " https://host:port");
      }
      if (rest.endsWith("/")) {
        rest = rest.substring(0, rest.length() - 1);
      }
      int colon = rest.lastIndexOf(':');
      try {
        if (colon <= 0) {
          throw new NumberFormatException();
        }
        int port = Integer.parseInt(rest.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
        return new Endpoint(rest.substring(0, colon), port, tls);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--arangodb-endpoints: \"" + s + "\" must be http://host:port or"
            + " https://host:port");
      }
    }
  }

  @Override
  public String toString() {
    return "ArangoSettings[endpoints=" + endpoints + ", database=" + database + ", user=" + user
        + ", password=(hidden), graph=" + graph + "]";
  }
}
