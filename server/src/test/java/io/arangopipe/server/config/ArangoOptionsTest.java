package io.arangopipe.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.store.arangodb.ArangoSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --arangodb-* options become the store's settings; the password never comes from a flag value. */
class ArangoOptionsTest {
  @TempDir
  Path dir;

  private static ServerConfig parse(String... args) {
    picocli.CommandLine cli = new picocli.CommandLine(new CommandLine());
    cli.parseArgs(args);
    return ((CommandLine) cli.getCommand()).call();
  }

  @Test
  void settingsFromFlagsAndThePasswordFile() throws Exception {
    Path pw = dir.resolve("password");
    Files.writeString(pw, "s3cret\n");
    ServerConfig c = parse("--store", "arangodb", "--arangodb-endpoints", "https://c0:8529, https://c1:8529",
        "--arangodb-password-file", pw.toString(), "--arangodb-protocol", "http1", "--arangodb-replication-factor",
        "3", "--arangodb-write-concern", "2", "--arangodb-shards", "1", "--arangodb-one-shard", "--arangodb-timeout",
        "7");
    ArangoSettings a = c.arango();
    assertThat(c.store()).isEqualTo("arangodb");
    assertThat(a.endpoints()).containsExactly("https://c0:8529", "https://c1:8529");
    assertThat(a.password()).isEqualTo("s3cret");
    assertThat(a.http2()).isFalse();
    assertThat(a.maxConnections()).isEqualTo(8);
    assertThat(a.database()).isEqualTo("arangopipe");
    assertThat(a.user()).isEqualTo("root");
    assertThat(a.graph()).isEqualTo("enterprise_ml_graph");
    assertThat(a.replicationFactor()).isEqualTo(3);
    assertThat(a.writeConcern()).isEqualTo(2);
    assertThat(a.oneShard()).isTrue();
    assertThat(a.timeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(c.toString()).doesNotContain("s3cret");
  }

  @Test
  void theEmbeddedStoreHasNoArangoSettings() {
    assertThat(parse().arango()).isNull();
    assertThat(parse().store()).isEqualTo("sqlite");
  }

  @Test
  void mistakesAreClearErrors() {
    assertThatThrownBy(() -> parse("--store", "arangodb")).hasMessageContaining("--arangodb-endpoints");
    assertThatThrownBy(() -> parse("--store", "mongo")).hasMessageContaining("\"sqlite\" or \"arangodb\"");
    assertThatThrownBy(() -> parse("--store", "arangodb", "--arangodb-endpoints", "http://h:1",
        "--arangodb-protocol", "http3")).hasMessageContaining("--arangodb-protocol");
    assertThatThrownBy(() -> parse("--store", "arangodb", "--arangodb-endpoints", "http://h:1",
        "--arangodb-password-file", dir.resolve("missing").toString())).hasMessageContaining("cannot be read");
    assertThatThrownBy(() -> parse("--store", "arangodb", "--arangodb-endpoints", "http://h:1",
        "--arangodb-protocol", "http1", "--arangodb-max-connections", "2")).hasMessageContaining("at least 3");
  }
}
