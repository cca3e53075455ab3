package io.arangopipe.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prometheus metrics over HTTP: calls by method and code, the store's group commit, the JVM. */
class MetricsTest {
  @TempDir
  Path dir;

  @Test
  void callsStoreAndJvmMetricsAreScraped() throws Exception {
    String name = InProcessServerBuilder.generateName();
    try (ArangopipeServer server = new ArangopipeServer(ServerConfig.forTests(dir).withMetrics(),
        InProcessServerBuilder.forName(name))) {
      ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
      try {
        TrackingServiceGrpc.TrackingServiceBlockingStub t = TrackingServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS);
        t.registerDataset(RegisterDatasetRequest.newBuilder().setName("a").build());
        try {
          t.registerDataset(RegisterDatasetRequest.newBuilder().build());
        } catch (io.grpc.StatusRuntimeException expected) {
          // counted under INVALID_ARGUMENT
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(body).contains("arangopipe_grpc_server_calls_seconds_count{code=\"OK\","
          + "method=\"arangopipe.v1.TrackingService/RegisterDataset\"} 1")
          .contains("arangopipe_grpc_server_calls_seconds_count{code=\"INVALID_ARGUMENT\","
              + "method=\"arangopipe.v1.TrackingService/RegisterDataset\"} 1")
          .contains("arangopipe_store_write_batch_size_count")
          .contains("arangopipe_store_commit_seconds_count")
          .contains("arangopipe_store_write_queue")
          .contains("jvm_memory_used_bytes");
    }
  }
}
