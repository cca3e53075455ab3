package io.arangopipe.client.jmh;

import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A StreamServingPerf endpoint that acknowledges every batch and stores nothing, on a loopback socket:
 * it isolates the client's own cost from the server's.
 */
final class NoopSink implements AutoCloseable {
  final AtomicLong records = new AtomicLong();
  private final Server server;

  NoopSink() throws IOException {
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new TrackingServiceGrpc.TrackingServiceImplBase() {
          @Override
          public StreamObserver<StreamServingPerfRequest> streamServingPerf(
              StreamObserver<StreamServingPerfResponse> out) {
            return new StreamObserver<StreamServingPerfRequest>() {
              long batches;
              long n;

              @Override
              public void onNext(StreamServingPerfRequest batch) {
                batches++;
                n += batch.getRecordsCount();
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                records.addAndGet(n);
                out.onNext(StreamServingPerfResponse.newBuilder().setAcceptedBatches(batches).setAcceptedRecords(n)
                    .build());
                out.onCompleted();
              }
            };
          }
        }).build().start();
  }

  String target() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }
}
