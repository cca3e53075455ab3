package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder and the environment variables it reads. */
class BuilderTest {
  @TempDir Path dir;

  private static ArangopipeClient.Builder fromEnv(Map<String, String> env) {
    return ArangopipeClient.builder().environment(env::get);
  }

  @Test
  void defaults() {
    try (ArangopipeClient c = ArangopipeClient.builder().build()) {
      assertThat(c.target()).isEqualTo("localhost:6529");
      assertThat(c.deadline()).isEqualTo(Duration.ofSeconds(10));
      assertThat(c.retryPolicy().maxAttempts()).isEqualTo(5);
    }
    try (ArangopipeClient c = fromEnv(Map.of()).build()) {
      assertThat(c.target()).isEqualTo(ArangopipeClient.DEFAULT_TARGET);
    }
  }

  @Test
  void environmentSetsTargetTokenAndTls() throws Exception {
    Path ca = resource("ca.pem");
    Map<String, String> env = new HashMap<>();
    env.put("ARANGOPIPE_TARGET", "metadata.internal:7000");
    env.put("ARANGOPIPE_TOKEN", "abc.def");
    env.put("ARANGOPIPE_CA", ca.toString());
    env.put("ARANGOPIPE_CERT", resource("client.pem").toString());
    env.put("ARANGOPIPE_KEY", resource("client.key").toString());
    ArangopipeClient.Builder b = fromEnv(env);
    assertThat(b.tls()).isTrue();
    try (ArangopipeClient c = b.build()) {
      assertThat(c.target()).isEqualTo("metadata.internal:7000");
    }
    // Empty variables change nothing.
    assertThat(fromEnv(Map.of("ARANGOPIPE_TARGET", " ", "ARANGOPIPE_CA", "")).tls()).isFalse();
    assertThat(fromEnv(Map.of("ARANGOPIPE_TLS", "true")).tls()).isTrue();
  }

  @Test
  void badSettingsFailAtBuildTimeWithAClearMessage() {
    assertThatThrownBy(() -> fromEnv(Map.of("ARANGOPIPE_CERT", "/x.pem")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ARANGOPIPE_KEY");
    assertThatThrownBy(() -> fromEnv(Map.of("ARANGOPIPE_CA", dir.resolve("missing.pem").toString())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a readable file");
    assertThatThrownBy(() -> fromEnv(Map.of("ARANGOPIPE_TLS", "yes")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ARANGOPIPE_TLS");
    assertThatThrownBy(() -> ArangopipeClient.builder().defaultDeadline(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ArangopipeClient.builder().target(""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().jitter(1.0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(5)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBackoff");
  }

  @Test
  void loopbackTargets() {
    assertThat(ArangopipeClient.Builder.isLoopbackTarget("localhost:6529")).isTrue();
    assertThat(ArangopipeClient.Builder.isLoopbackTarget("127.0.0.1:1")).isTrue();
    assertThat(ArangopipeClient.Builder.isLoopbackTarget("dns:///localhost:6529")).isTrue();
    assertThat(ArangopipeClient.Builder.isLoopbackTarget("[::1]:6529")).isTrue();
    assertThat(ArangopipeClient.Builder.isLoopbackTarget("metadata:6529")).isFalse();
  }

  private Path resource(String name) throws Exception {
    Path p = dir.resolve(name);
    try (var in = getClass().getResourceAsStream("/tls/" + name)) {
      Files.copy(in, p);
    }
    return p;
  }
}
