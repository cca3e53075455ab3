package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.GetCurrentUserResponse;
import io.arangopipe.v1.Role;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client over a real socket against the real server jar, configured the way applications are. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClientEndToEndIT {
  private static final String ADMIN_TOKEN = "admin-token-for-the-client-e2e";

  @TempDir Path tmp;
  private ServerProcess server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** Mutual TLS and bearer tokens: the server as a secured deployment runs it; the client from the environment. */
  @Test
  void securedServerWorkflowErrorsAndReporting() throws Exception {
    Path tokenFile = Files.writeString(tmp.resolve("admin-token"), ADMIN_TOKEN);
    server = ServerProcess.start(0, Files.createDirectories(tmp.resolve("data")), tmp, "secure",
        "--tls-cert", tls("server.pem").toString(), "--tls-key", tls("server.key").toString(),
        "--tls-client-ca", tls("ca.pem").toString(), "--admin-token-file", tokenFile.toString());
    Map<String, String> env = new HashMap<>();
    env.put("ARANGOPIPE_TARGET", "localhost:" + server.port);
    env.put("ARANGOPIPE_CA", tls("ca.pem").toString());
    env.put("ARANGOPIPE_CERT", tls("client.pem").toString());
    env.put("ARANGOPIPE_KEY", tls("client.key").toString());
    env.put("ARANGOPIPE_TOKEN", ADMIN_TOKEN);
    try (ArangopipeClient admin = ArangopipeClient.builder().environment(env::get).build()) {
      GetCurrentUserResponse me = admin.getCurrentUser();
      assertThat(me.getAuthenticationEnabled()).isTrue();
      assertThat(me.getUser().getName()).isEqualTo("admin");

      Deployment d = Fixtures.deploy(admin, "e2e-prod");
      // What a serving layer reads at start-up.
      Deployment read = admin.getDeployment("e2e-prod");
      assertThat(read.getId()).isEqualTo(d.getId());
      assertThat(admin.getEntity(read.getModelId()).getEntity().getName()).isEqualTo("lasso-e2e-prod");
      Entity ds = admin.lookupEntity("datasets", "housing-e2e-prod");
      assertThatThrownBy(() -> admin.registerDataset("housing-e2e-prod", "housing", Map.of("rows", 1)))
          .isInstanceOfSatisfying(AlreadyExistsException.class, e -> assertThat(e.existingId()).isEqualTo(ds.getId()));
      assertThatThrownBy(() -> admin.getDeployment("missing")).isInstanceOf(NotFoundException.class);

      // A serving layer with its own token and the editor role reports; a viewer's records are rejected.
      env.put("ARANGOPIPE_TOKEN", tokenFor(admin, "serving", Role.ROLE_EDITOR));
      try (ArangopipeClient serving = ArangopipeClient.builder().environment(env::get).build();
          ServingPerfReporter r = serving.servingPerfReporter()) {
        for (int i = 0; i < 1_000; i++) {
          r.record("e2e-prod", Map.of("seq", i, "latency_ms", 4.0));
        }
        assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
        assertThat(r.sentRecords()).isEqualTo(1_000);
      }
      env.put("ARANGOPIPE_TOKEN", tokenFor(admin, "dashboard", Role.ROLE_VIEWER));
      try (ArangopipeClient viewer = ArangopipeClient.builder().environment(env::get).build();
          ServingPerfReporter r = viewer.servingPerfReporter()) {
        assertThat(viewer.getDeployment("e2e-prod").getId()).isEqualTo(d.getId());
        for (int i = 0; i < 10; i++) {
          r.record("e2e-prod", Map.of("seq", -1));
        }
        assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
        assertThat(r.rejectedRecords()).isEqualTo(10);
        assertThatThrownBy(() -> viewer.logServingPerf("e2e-prod", Map.of("seq", -1)))
            .isInstanceOf(PermissionDeniedException.class);
      }
      assertThat(Fixtures.servingPerfCount(admin)).isEqualTo(1_000);
    }

    env.put("ARANGOPIPE_TOKEN", "not-a-token-the-server-knows");
    try (ArangopipeClient stranger = ArangopipeClient.builder().environment(env::get).build()) {
      assertThatThrownBy(stranger::listTypes).isInstanceOf(UnauthenticatedException.class);
    }
    env.remove("ARANGOPIPE_CERT");
    env.remove("ARANGOPIPE_KEY");
    env.put("ARANGOPIPE_TOKEN", ADMIN_TOKEN);
    try (ArangopipeClient noCert = ArangopipeClient.builder().environment(env::get)
        .retryPolicy(RetryPolicy.none()).build()) {
      assertThatThrownBy(noCert::listTypes).isInstanceOf(UnavailableException.class);
    }
    assertThat(Files.readAllLines(server.log)).noneMatch(l -> l.contains(" ERROR "));
  }

  @Test
  void aServerThatIsNotThereIsUnavailableAfterTheRetries() throws Exception {
    int port = ServerProcess.freePort();
    try (ArangopipeClient client = ArangopipeClient.builder().target("127.0.0.1:" + port)
        .retryPolicy(RetryPolicy.builder().maxAttempts(3).initialBackoff(Duration.ofMillis(20)).build()).build()) {
      assertThatThrownBy(client::listTypes).isInstanceOf(UnavailableException.class);
    }
  }

  private static String tokenFor(ArangopipeClient admin, String user, Role role) {
    admin.createUser(user, false);
    admin.grantRole(user, "housing", role);
    return admin.createToken(user, "client e2e").getSecret();
  }

  private Path tls(String name) throws Exception {
    Path p = tmp.resolve(name);
    if (!Files.exists(p)) {
      try (InputStream in = getClass().getResourceAsStream("/tls/" + name)) {
        Files.copy(in, p);
      }
    }
    return p;
  }
}
