package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server goes away while a serving layer reports, and comes back on the same port and data folder.
 * Afterwards every accepted record is stored exactly once: the store holds {@code recorded - dropped}
 * records, no duplicates, and exactly the ones {@code record()} accepted (drop-newest is the only loss).
 *
 * <p>No timing thresholds: each phase waits (bounded) for a count to be reached.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServingPerfReporterOutageIT {
  private static final String TAG = "serving-outage";
  private static final long PHASE_TIMEOUT_MILLIS = 120_000;

  @TempDir Path tmp;
  private ServerProcess server;
  private Thread producer;
  private final AtomicBoolean producing = new AtomicBoolean(true);

  @AfterEach
  void cleanUp() throws Exception {
    producing.set(false);
    if (producer != null) {
      producer.join(10_000);
    }
    if (server != null) {
      server.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"SIGKILL", "SIGTERM"})
  void nothingIsLostBeyondTheDropPolicy(String signal) throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    int port = ServerProcess.freePort();
    server = ServerProcess.start(port, data, tmp, "first");
    ArangopipeClient client = ArangopipeClient.builder().target(server.target())
        .defaultDeadline(Duration.ofSeconds(30)).build();
    Fixtures.deploy(client, TAG);

    // A small buffer, so the outage overflows it and the drop policy is exercised too.
    ServingPerfReporter reporter = client.servingPerfReporter(ServingPerfReporter.Options.builder()
        .bufferCapacity(4096).batchSize(250).initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofSeconds(1))
        .closeTimeout(Duration.ofSeconds(120)).build());
    BitSet accepted = new BitSet();
    AtomicLong calls = new AtomicLong();
    producer = new Thread(() -> {
      long seq = 0;
      while (producing.get()) {
        if (reporter.record(TAG, Map.of("seq", seq, "latency_ms", 2.5))) {
          synchronized (accepted) {
            accepted.set((int) seq);
          }
        }
        seq++;
        calls.set(seq);
        LockSupport.parkNanos(200_000); // a serving layer at a few thousand predictions per second
      }
    }, "serving-layer");
    producer.start();

    await("records flowing before the outage", () -> reporter.sentRecords() >= 2_000);
    if (signal.equals("SIGKILL")) {
      server.kill();
    } else {
      server.terminate();
    }
    long callsAtOutage = calls.get();
    await("the reporter noticing the outage", () -> reporter.failedBatches() > 0);
    await("records piling up during the outage", () -> reporter.droppedRecords() > 0
        && calls.get() - callsAtOutage >= 8_000);
    long sentDuringOutage = reporter.sentRecords();

    server = ServerProcess.start(port, data, tmp, "second");
    await("records flowing after the restart", () -> reporter.sentRecords() >= sentDuringOutage + 2_000);
    producing.set(false);
    producer.join(30_000);
    reporter.close();

    ServingPerfReporter.Stats s = reporter.stats();
    assertThat(s.rejected()).as("%s", s).isZero();
    assertThat(s.abandoned()).as("%s", s).isZero();
    assertThat(s.buffered()).as("%s", s).isZero();
    assertThat(s.dropped()).as("%s", s).isPositive();
    assertThat(s.sent() + s.dropped()).as("%s", s).isEqualTo(calls.get());
    assertThat(s.sent()).isEqualTo(accepted.cardinality());

    assertThat(Fixtures.servingPerfCount(client)).as("stored records").isEqualTo(s.sent());
    List<io.arangopipe.v1.Entity> stored = Fixtures.servingPerf(client);
    BitSet storedSeqs = new BitSet();
    for (io.arangopipe.v1.Entity e : stored) {
      int seq = (int) e.getDocument().getFieldsOrThrow("seq").getNumberValue();
      assertThat(storedSeqs.get(seq)).as("seq %d stored twice", seq).isFalse();
      storedSeqs.set(seq);
    }
    assertThat(storedSeqs).isEqualTo(accepted);
    client.close();
  }

  private static void await(String what, java.util.function.BooleanSupplier condition) {
    assertThat(Fixtures.eventually(PHASE_TIMEOUT_MILLIS, condition)).as(what).isTrue();
  }
}
