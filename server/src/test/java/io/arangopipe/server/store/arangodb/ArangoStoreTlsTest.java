package io.arangopipe.server.store.arangodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.TestPki;
import io.arangopipe.server.store.UnavailableException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code https://} endpoints with {@code --arangodb-ca-file}: the store trusts exactly the PEM CA it is
 * given. Certificates are made by {@code openssl}; the stub speaks HTTPS with the real driver.
 */
class ArangoStoreTlsTest {
  @TempDir
  static Path pki;

  static ArangoStubServer stub;

  @BeforeAll
  static void start() throws Exception {
    for (String ca : List.of("ca", "other-ca")) {
      TestPki.ca(pki, ca, "Test " + ca);
    }
    TestPki.signed(pki, "server", "localhost", "ca", true);
    TestPki.openssl(pki, "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-out", "server.p12", "-passout",
        "pass:stub-pw");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(pki.resolve("server.p12"))) {
      ks.load(in, "stub-pw".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "stub-pw".toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    stub = new ArangoStubServer(0, ctx);
  }

  @AfterAll
  static void stop() {
    stub.close();
  }

  private static ArangoStore store(String ca) {
    ArangoSettings s = new ArangoSettings(List.of(stub.endpoint()), "stubdb", "root", "pw", pki.resolve(ca),
        ArangoSettings.SEED_GRAPH, false, 3, Duration.ofSeconds(2), 1, 1, 1, false);
    return ArangoStore.connectOnly(s, ArangoStore.Options.defaults(), Layout.BOOKKEEPING);
  }

  @Test
  void trustsTheGivenCa() {
    try (ArangoStore store = store("ca.pem")) {
      java.util.Optional<io.arangopipe.server.store.RequestRecord> r = store.read(tx -> tx.request("r1"));
      assertThat(r).isEmpty();
      assertThat(store.probe()).isTrue();
    }
  }

  @Test
  void refusesAServerSignedByAnotherCa() {
    try (ArangoStore store = store("other-ca.pem")) {
      assertThatThrownBy(() -> store.read(tx -> tx.request("r1"))).isInstanceOf(UnavailableException.class);
      assertThat(store.probe()).isFalse();
    }
  }

  @Test
  void aCaFileWithoutCertificatesIsAClearError() throws Exception {
    Files.writeString(pki.resolve("empty.pem"), "not a certificate\n");
    assertThatThrownBy(() -> store("empty.pem")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--arangodb-ca-file");
  }
}
