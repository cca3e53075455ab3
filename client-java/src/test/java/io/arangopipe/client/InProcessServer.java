package io.arangopipe.client;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** The real server (SQLite in a temporary folder) on an in-process transport, with a fault injector. */
final class InProcessServer implements AutoCloseable {
  final String name = InProcessServerBuilder.generateName();
  final FaultInjector faults = new FaultInjector();
  private final ArangopipeServer server;

  InProcessServer(Path dataDir) throws IOException {
    server = new ArangopipeServer(ServerConfig.forTests(dataDir), InProcessServerBuilder.forName(name).intercept(faults));
  }

  /** A client on this server with fast retries. */
  ArangopipeClient client() {
    return client(b -> b);
  }

  ArangopipeClient client(UnaryOperator<ArangopipeClient.Builder> customize) {
    ArangopipeClient.Builder b = ArangopipeClient.builder()
        .channelBuilder(InProcessChannelBuilder.forName(name))
        .intercept(faults.clientRecorder())
        .defaultDeadline(Duration.ofSeconds(30))
        .retryPolicy(RetryPolicy.builder().maxAttempts(5).initialBackoff(Duration.ofMillis(10))
            .maxBackoff(Duration.ofMillis(50)).build());
    return customize.apply(b).build();
  }

  @Override
  public void close() {
    server.close();
  }
}
