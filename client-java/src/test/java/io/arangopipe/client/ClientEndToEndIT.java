package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.Entity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client over a real socket against the real server jar, configured the way applications are. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClientEndToEndIT {
  @TempDir Path tmp;
  private ServerProcess server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void workflowErrorsAndReportingOverASocket() throws Exception {
    server = ServerProcess.start(0, Files.createDirectories(tmp.resolve("data")), tmp, "e2e");
    Map<String, String> env = Map.of("ARANGOPIPE_TARGET", server.target(), "ARANGOPIPE_TOKEN", "dev-token");
    try (ArangopipeClient client = ArangopipeClient.builder().environment(env::get).build()) {
      Deployment d = Fixtures.deploy(client, "e2e-prod");
      Deployment read = client.getDeployment("e2e-prod");
      assertThat(read.getId()).isEqualTo(d.getId());
      assertThat(client.getEntity(read.getModelId()).getEntity().getName()).isEqualTo("lasso-e2e-prod");

      Entity ds = client.lookupEntity("datasets", "housing-e2e-prod");
      assertThatThrownBy(() -> client.registerDataset("housing-e2e-prod", "housing", Map.of("rows", 1)))
          .isInstanceOfSatisfying(AlreadyExistsException.class, e -> assertThat(e.existingId()).isEqualTo(ds.getId()));
      assertThatThrownBy(() -> client.getDeployment("missing")).isInstanceOf(NotFoundException.class);

      try (ServingPerfReporter r = client.servingPerfReporter()) {
        for (int i = 0; i < 1_000; i++) {
          r.record("e2e-prod", Map.of("seq", i, "latency_ms", 4.0));
        }
        assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
        assertThat(r.sentRecords()).isEqualTo(1_000);
      }
      assertThat(Fixtures.servingPerfCount(client)).isEqualTo(1_000);
    }
    // No ERROR lines in the server's log.
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
}
