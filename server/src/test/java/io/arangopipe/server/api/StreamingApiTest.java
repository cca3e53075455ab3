package io.arangopipe.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.arangopipe.v1.RegisterDeploymentRequest;
import io.arangopipe.v1.ServingPerfRecord;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** TrackingService.StreamServingPerf: batches written atomically, counted, and idempotent by request id. */
class StreamingApiTest extends ApiTestBase {

  private void deployment() {
    Setup s = setup();
    logRun(s, "r", "", "serving", 0.2);
    admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("serving").build());
  }

  private static StreamServingPerfRequest batch(String tag, int n, String requestId) {
    StreamServingPerfRequest.Builder b = StreamServingPerfRequest.newBuilder().setRequestId(requestId);
    for (int i = 0; i < n; i++) {
      b.addRecords(ServingPerfRecord.newBuilder().setDeploymentTag(tag).setMetrics(struct("latency_ms", i)));
    }
    return b.build();
  }

  /** Sends the batches on one stream; returns the response, or throws the call's error. */
  private StreamServingPerfResponse send(List<StreamServingPerfRequest> batches) throws Exception {
    CompletableFuture<StreamServingPerfResponse> result = new CompletableFuture<>();
    StreamObserver<StreamServingPerfRequest> up = TrackingServiceGrpc.newStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .streamServingPerf(new StreamObserver<>() {
          @Override
          public void onNext(StreamServingPerfResponse value) {
            result.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            result.complete(null);
          }
        });
    batches.forEach(up::onNext);
    up.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  void everyBatchIsWrittenAndCounted() throws Exception {
    deployment();
    StreamServingPerfResponse r = send(List.of(batch("serving", 100, "b1"), batch("serving", 250, "b2"),
        batch("serving", 1, "")));
    assertThat(r.getAcceptedBatches()).isEqualTo(3);
    assertThat(r.getAcceptedRecords()).isEqualTo(351);
    assertThat(count("servingperf")).isEqualTo(351);
    // Resending batches with their request ids (a reconnect) writes nothing twice, and counts them again.
    r = send(List.of(batch("serving", 100, "b1"), batch("serving", 250, "b2")));
    assertThat(r.getAcceptedBatches()).isEqualTo(2);
    assertThat(r.getAcceptedRecords()).isEqualTo(350);
    assertThat(count("servingperf")).isEqualTo(351);
  }

  @Test
  void aBatchAnsweredByAnEarlierBuildIsCountedFromTheIdsItsRecordListed() throws Exception {
    deployment();
    send(List.of(batch("serving", 3, "old")));
    // Earlier builds stored a batch's result as the list of its records' ids.
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        java.sql.Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE requests SET result = '[\"servingperf/a\",\"servingperf/b\","
          + "\"servingperf/c\"]' WHERE request_id = 'old' AND result = '3'")).isEqualTo(1);
    }
    StreamServingPerfResponse r = send(List.of(batch("serving", 3, "old")));
    assertThat(r.getAcceptedRecords()).isEqualTo(3);
    assertThat(count("servingperf")).isEqualTo(3);
  }

  @Test
  void aBadBatchEndsTheCallAndSaysHowMuchWasWritten() throws Exception {
    deployment();
    StreamServingPerfRequest mixed = batch("serving", 10, "m").toBuilder()
        .addRecords(ServingPerfRecord.newBuilder().setDeploymentTag("ghost")).build();
    try {
      send(List.of(batch("serving", 5, "a"), batch("serving", 7, "b"), mixed, batch("serving", 3, "c")));
      throw new AssertionError("expected NOT_FOUND");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(e.getStatus().getDescription()).startsWith("records[10].deployment_tag: no deployment");
      ErrorInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class);
      assertThat(info.getMetadataMap()).containsEntry("accepted_batches", "2").containsEntry("accepted_records", "12");
    }
    // The bad batch wrote none of its records; the ones before it stay.
    assertThat(count("servingperf")).isEqualTo(12);
    try {
      send(List.of(batch("serving", 1001, "")));
      throw new AssertionError("expected INVALID_ARGUMENT");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains("1 to 1000 records");
    }
  }
}
