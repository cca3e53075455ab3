package io.arangopipe.server.store.arangodb;

import com.arangodb.ArangoDB;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh, uniquely named database on the ArangoDB server named by the environment, for the contract
 * suites: {@code ARANGODB_ENDPOINTS} (comma-separated http(s)://host:port), {@code ARANGODB_USER}
 * (default root), {@code ARANGODB_PASSWORD} (default empty), {@code ARANGODB_PROTOCOL} (http2 or http1,
 * default http2), {@code ARANGODB_CA_FILE} (PEM, for https). Without {@code ARANGODB_ENDPOINTS} the suites
 * are skipped, and the test report counts them as skipped.
 */
final class ArangoTestDatabase {
  final String name = "arangopipe_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

  static void assumeConfigured() {
    String endpoints = System.getenv("ARANGODB_ENDPOINTS");
    Assumptions.assumeTrue(endpoints != null && !endpoints.isBlank(),
        "ArangoDB contract suite skipped: set ARANGODB_ENDPOINTS (and ARANGODB_USER / ARANGODB_PASSWORD) to run it"
            + " against a real server, e.g. ARANGODB_ENDPOINTS=http://localhost:8529");
  }

  ArangoSettings settings() {
    String user = env("ARANGODB_USER", "root");
    String password = env("ARANGODB_PASSWORD", "");
    String ca = System.getenv("ARANGODB_CA_FILE");
    boolean http2 = !env("ARANGODB_PROTOCOL", "http2").equalsIgnoreCase("http1");
    List<String> endpoints = Arrays.stream(System.getenv("ARANGODB_ENDPOINTS").split(",")).map(String::strip)
        .filter(s -> !s.isEmpty()).toList();
    return new ArangoSettings(endpoints, name, user, password, ca == null ? null : java.nio.file.Path.of(ca),
        ArangoSettings.SEED_GRAPH, http2, http2 ? 1 : 4, Duration.ofSeconds(30), 1, 1, 1, false);
  }

  ArangoStore open() {
    return ArangoStore.open(settings(), ArangoStore.Options.defaults());
  }

  /** Drops the database (best effort). */
  void drop() {
    ArangoSettings s = settings();
    ArangoDB.Builder b = new ArangoDB.Builder().user(s.user()).password(s.password())
        .protocol(s.http2() ? com.arangodb.Protocol.HTTP2_JSON : com.arangodb.Protocol.HTTP_JSON);
    for (String e : s.endpoints()) {
      ArangoSettings.Endpoint ep = ArangoSettings.Endpoint.parse(e);
      b.host(ep.host(), ep.port());
      b.useSsl(ep.tls());
    }
    ArangoDB adb = b.build();
    try {
      if (adb.db(name).exists()) {
        adb.db(name).drop();
      }
    } finally {
      adb.shutdown();
    }
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }
}
