package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.v1.DeploymentStatus;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ServingPerfReporter against the real server on an in-process transport, with injected faults. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ServingPerfReporterTest {
  private static final String STREAM = "arangopipe.v1.TrackingService/StreamServingPerf";
  private static final String TAG = "housing-prod";

  @TempDir Path dir;
  InProcessServer server;
  ArangopipeClient client;

  @BeforeEach
  void start() throws Exception {
    server = new InProcessServer(dir);
    client = server.client();
    Fixtures.deploy(client, TAG);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  private static ServingPerfReporter.Options.Builder fast() {
    return ServingPerfReporter.Options.builder().initialBackoff(Duration.ofMillis(10))
        .maxBackoff(Duration.ofMillis(50)).closeTimeout(Duration.ofSeconds(30));
  }

  /** The "seq" metric of every stored serving-performance document. */
  private List<Long> storedSeqs() {
    return Fixtures.servingPerf(client).stream()
        .map(e -> (long) e.getDocument().getFieldsOrThrow("seq").getNumberValue()).collect(Collectors.toList());
  }

  /** Every record() call is accounted for once the reporter is closed. */
  private static void assertAccounted(ServingPerfReporter r, long calls) {
    ServingPerfReporter.Stats s = r.stats();
    assertThat(s.buffered()).as("%s", s).isZero();
    assertThat(s.sent() + s.dropped() + s.rejected() + s.abandoned()).as("%s", s).isEqualTo(calls);
  }

  @Test
  void recordsFromManyThreadsAllArriveOnce() throws Exception {
    int threads = 4;
    int perThread = 5_000;
    ServingPerfReporter r = client.servingPerfReporter(fast().build());
    List<Thread> producers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      Thread p = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          r.record(TAG, Map.of("seq", base + i, "latency_ms", 3.5));
        }
      });
      producers.add(p);
      p.start();
    }
    for (Thread p : producers) {
      p.join(TimeUnit.SECONDS.toMillis(60));
    }
    r.close();
    assertThat(r.droppedRecords()).isZero();
    assertThat(r.sentRecords()).isEqualTo(threads * perThread);
    assertAccounted(r, threads * perThread);
    List<Long> seqs = storedSeqs();
    assertThat(seqs).hasSize(threads * perThread).doesNotHaveDuplicates();
    assertThat(r.stats().sentBatches()).isGreaterThanOrEqualTo(threads * perThread / 500);
  }

  @Test
  void storedRecordsCarryTagTimeAndMetrics() {
    long before = System.currentTimeMillis();
    try (ServingPerfReporter r = client.servingPerfReporter(fast().build())) {
      r.record(TAG, "latency_ms", 12.5);
      r.record(TAG, Structs.toStruct(Map.of("score", 0.83)));
      assertThat(r.flush(Duration.ofSeconds(30))).isTrue();
    }
    List<Entity> docs = Fixtures.servingPerf(client);
    assertThat(docs).hasSize(2);
    Map<String, Object> first = Structs.toMap(docs.get(0).getDocument());
    assertThat(first).containsEntry("latency_ms", 12.5).containsEntry("deployment_tag", TAG);
    assertThat(java.time.Instant.parse((String) first.get("time")).toEpochMilli()).isBetween(before,
        System.currentTimeMillis());
    assertThat(Structs.toMap(docs.get(1).getDocument())).containsEntry("score", 0.83);
  }

  @Test
  void aPartialBatchIsSentWhenItsOldestRecordIsDue() {
    ServingPerfReporter r = client.servingPerfReporter(fast().flushInterval(Duration.ofMillis(100)).build());
    for (int i = 0; i < 3; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    // No flush, no close: the flush interval alone sends them.
    assertThat(Fixtures.eventually(20_000, () -> Fixtures.servingPerfCount(client) == 3)).isTrue();
    // The server stores a batch before its answer reaches the reporter, which counts it as sent then.
    assertThat(Fixtures.eventually(20_000, () -> r.stats().sentBatches() > 0)).isTrue();
    r.close();
    assertAccounted(r, 3);
  }

  @Test
  void fullBatchesAreSentWithoutWaitingForTheFlushInterval() {
    ServingPerfReporter r = client.servingPerfReporter(fast().batchSize(100).flushInterval(Duration.ofHours(1))
        .build());
    for (int i = 0; i < 250; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    assertThat(Fixtures.eventually(20_000, () -> r.sentRecords() == 200)).isTrue();
    assertThat(r.stats().buffered()).isEqualTo(50);
    assertThat(Fixtures.servingPerfCount(client)).isEqualTo(200);
    assertThat(r.flush(Duration.ofSeconds(30))).isTrue();
    assertThat(Fixtures.servingPerfCount(client)).isEqualTo(250);
    r.close();
    assertAccounted(r, 250);
  }

  @Test
  void aFullBufferDropsTheNewestRecordsAndCountsThem() {
    server.faults.failAll(STREAM, Status.UNAVAILABLE.withDescription("injected outage"));
    ServingPerfReporter r = client.servingPerfReporter(fast().bufferCapacity(64).batchSize(10)
        .maxBatchesPerStream(2).build());
    Set<Long> accepted = new HashSet<>();
    int calls = 1_000;
    for (long i = 0; i < calls; i++) {
      if (r.record(TAG, Map.of("seq", i))) {
        accepted.add(i);
      }
    }
    assertThat(r.droppedRecords()).isPositive().isEqualTo(calls - accepted.size());
    assertThat(r.acceptedRecords()).isEqualTo(accepted.size());
    assertThat(Fixtures.eventually(20_000, () -> r.failedBatches() > 0)).isTrue();
    assertThat(Fixtures.servingPerfCount(client)).isZero();
    server.faults.clear(); // the server is back
    assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
    r.close();
    assertAccounted(r, calls);
    assertThat(r.sentRecords()).isEqualTo(accepted.size());
    assertThat(r.rejectedRecords()).isZero();
    // Exactly the records record() accepted are stored, once each.
    assertThat(new HashSet<>(storedSeqs())).isEqualTo(accepted);
    assertThat(storedSeqs()).doesNotHaveDuplicates();
  }

  @Test
  void lostAcknowledgementsAreResentWithTheSameRequestIdAndWrittenOnce() {
    server.faults.loseNextResponses(STREAM, 3);
    ServingPerfReporter r = client.servingPerfReporter(fast().batchSize(100).build());
    for (int i = 0; i < 2_000; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
    r.close();
    assertAccounted(r, 2_000);
    assertThat(r.sentRecords()).isEqualTo(2_000);
    assertThat(r.failedBatches()).isPositive();
    assertThat(storedSeqs()).hasSize(2_000).doesNotHaveDuplicates();
    // Batches were sent more than once, always with the request id they were first sent with.
    List<String> ids = server.faults.messages(STREAM).stream()
        .map(m -> ((StreamServingPerfRequest) m).getRequestId()).collect(Collectors.toList());
    Map<String, Set<List<?>>> contentById = new HashMap<>();
    for (Object m : server.faults.messages(STREAM)) {
      StreamServingPerfRequest b = (StreamServingPerfRequest) m;
      contentById.computeIfAbsent(b.getRequestId(), k -> ConcurrentHashMap.newKeySet()).add(b.getRecordsList());
    }
    assertThat(ids.size()).isGreaterThan(contentById.size());
    assertThat(contentById.values()).allSatisfy(contents -> assertThat(contents).hasSize(1));
    assertThat(contentById).hasSize((int) r.stats().sentBatches());
  }

  @Test
  void rejectedRecordsAreCountedAndTheRestOfTheirBatchIsWritten() {
    Fixtures.deploy(client, "retired");
    client.updateDeploymentStatus("retired", DeploymentStatus.DEPLOYMENT_STATUS_ARCHIVED);
    Map<String, Object> unsupported = new HashMap<>();
    unsupported.put("seq", -1);
    unsupported.put("model", new Object());
    ServingPerfReporter r = client.servingPerfReporter(fast().batchSize(1000).build());
    int good = 0;
    int calls = 0;
    for (int i = 0; i < 60; i++) {
      calls++;
      if (i % 6 == 1) {
        r.record("ghost", Map.of("seq", -1)); // NOT_FOUND: no such deployment
      } else if (i % 12 == 3) {
        r.record("retired", Map.of("seq", -1)); // FAILED_PRECONDITION: archived
      } else if (i == 5) {
        r.record(TAG, Map.of("seq", -1, "time", "yesterday")); // INVALID_ARGUMENT: a reserved name
      } else if (i == 7) {
        r.record(TAG, "seq", Double.NaN); // no finite number: refused before sending
      } else if (i == 9) {
        r.record(TAG, unsupported); // not a document: refused before sending
      } else if (i == 11) {
        assertThat(r.record("", Map.of("seq", -1))).isFalse(); // no tag: refused at once
      } else {
        r.record(TAG, Map.of("seq", i));
        good++;
      }
    }
    assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
    r.close();
    assertAccounted(r, calls);
    assertThat(r.sentRecords()).isEqualTo(good);
    assertThat(r.rejectedRecords()).isEqualTo(calls - good);
    assertThat(storedSeqs()).hasSize(good).doesNotContain(-1L);
  }

  @Test
  void serverErrorsAreRetriedAFewTimesThenTheBatchIsRejected() {
    server.faults.failAll(STREAM, Status.INTERNAL.withDescription("injected bug"));
    ServingPerfReporter r = client.servingPerfReporter(fast().maxAttemptsOnServerError(3).build());
    for (int i = 0; i < 5; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
    assertThat(r.rejectedRecords()).isEqualTo(5);
    // Three attempts per batch: one batch, unless this thread stalled past the flush interval mid-way.
    assertThat(server.faults.calls(STREAM)).isGreaterThanOrEqualTo(3);
    r.close();
    assertAccounted(r, 5);
  }

  @Test
  void aFullServerDiskIsWaitedOutLikeAnOutageNotRejected() {
    // What the server answers while the disk holding its data is full (RESOURCE_EXHAUSTED, reason STORE_FULL).
    io.grpc.StatusRuntimeException full = io.grpc.protobuf.StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder().setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .setMessage("the disk holding the data folder /data is full; nothing was written")
            .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder()
                .setReason("STORE_FULL").setDomain("arangopipe.v1").build()))
            .build());
    server.faults.failNext(STREAM, 6, full.getStatus(), io.grpc.Status.trailersFromThrowable(full));
    ServingPerfReporter r = client.servingPerfReporter(fast().maxAttemptsOnServerError(3).build());
    for (int i = 0; i < 5; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    assertThat(r.flush(Duration.ofSeconds(60))).isTrue();
    assertThat(server.faults.calls(STREAM)).isGreaterThanOrEqualTo(7);
    assertThat(r.rejectedRecords()).isZero();
    assertThat(r.sentRecords()).isEqualTo(5);
    assertThat(storedSeqs()).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L);
    r.close();
    assertAccounted(r, 5);
  }

  @Test
  void closeGivesUpAfterItsTimeoutAndCountsWhatIsLeftAsAbandoned() {
    server.faults.failAll(STREAM, Status.UNAVAILABLE.withDescription("injected outage"));
    ServingPerfReporter r = client.servingPerfReporter(fast().closeTimeout(Duration.ofMillis(300)).build());
    for (int i = 0; i < 100; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    r.close();
    assertThat(r.abandonedRecords()).isEqualTo(100);
    assertThat(r.sentRecords()).isZero();
    assertAccounted(r, 100);
    // Closed: records are dropped, never thrown.
    assertThat(r.record(TAG, Map.of("seq", 1))).isFalse();
    assertThat(r.droppedRecords()).isEqualTo(1);
    r.close(); // idempotent
  }

  @Test
  void recordNeverThrows() {
    try (ServingPerfReporter r = client.servingPerfReporter(fast().build())) {
      assertThat(r.record(null, Map.of())).isFalse();
      assertThat(r.record(TAG, null, 1.0)).isFalse();
      assertThat(r.record(TAG, (Map<String, ?>) null)).isTrue(); // no metrics: an empty document
      assertThat(r.flush(Duration.ofSeconds(30))).isTrue();
      assertThat(r.rejectedRecords()).isEqualTo(2);
      assertThat(r.sentRecords()).isEqualTo(1);
    }
  }

  @Test
  void closingTheClientFlushesItsReporters() throws Exception {
    ArangopipeClient other = server.client();
    ServingPerfReporter r = other.servingPerfReporter(fast().flushInterval(Duration.ofHours(1)).build());
    for (int i = 0; i < 10; i++) {
      r.record(TAG, Map.of("seq", i));
    }
    other.close();
    assertThat(r.sentRecords()).isEqualTo(10);
    assertThat(Fixtures.servingPerfCount(client)).isEqualTo(10);
  }
}
