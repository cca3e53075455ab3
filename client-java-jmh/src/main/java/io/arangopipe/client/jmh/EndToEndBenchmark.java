package io.arangopipe.client.jmh;

import io.arangopipe.client.ArangopipeClient;
import io.arangopipe.client.ServingPerfReporter;
import io.arangopipe.client.Structs;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.ServingPerfRecord;
import io.arangopipe.v1.StreamServingPerfRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Records per second through one ServingPerfReporter (so one StreamServingPerf stream at a time), end to
 * end: {@code record} on the caller's thread, batching, the stream, and the server's acknowledgement.
 * Each invocation records {@value #RECORDS} records and waits until all are acknowledged; the score is in
 * records per second.
 *
 * <ul>
 *   <li>{@code sink=server}: the real server jar as a process (SQLite, durable commits), on loopback.
 *   <li>{@code sink=noop}: an endpoint that acknowledges without storing: the client's own ceiling.
 * </ul>
 *
 * {@link #serverRawBatches} sends the same records as ready-made batches through
 * {@code ArangopipeClient.streamServingPerf}: the server's ceiling for one stream, without the reporter.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class EndToEndBenchmark {
  static final int RECORDS = 50_000;
  static final String TAG = "bench-prod";

  /** Where the records go. */
  @State(Scope.Benchmark)
  public static class Sink {
    @Param({"server", "noop"})
    public String sink;

    AutoCloseable process;
    ArangopipeClient client;
    ServingPerfReporter reporter;
    List<StreamServingPerfRequest> batches;

    @Setup(Level.Trial)
    public void start() throws Exception {
      String target;
      if (sink.equals("server")) {
        ServerProcess s = new ServerProcess();
        process = s;
        target = s.target();
      } else {
        NoopSink s = new NoopSink();
        process = s;
        target = s.target();
      }
      client = ArangopipeClient.builder().target(target).defaultDeadline(Duration.ofMinutes(5)).build();
      if (sink.equals("server")) {
        deploy(client);
      }
      reporter = client.servingPerfReporter(ServingPerfReporter.Options.builder().bufferCapacity(2 * RECORDS)
          .build());
      batches = new ArrayList<>();
      for (int b = 0; b < RECORDS / 500; b++) {
        StreamServingPerfRequest.Builder rb = StreamServingPerfRequest.newBuilder();
        for (int i = 0; i < 500; i++) {
          rb.addRecords(ServingPerfRecord.newBuilder().setDeploymentTag(TAG)
              .setMetrics(Structs.toStruct(Map.of("latency_ms", (double) i, "score", 0.5))));
        }
        batches.add(rb.build());
      }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      reporter.close();
      if (reporter.droppedRecords() + reporter.rejectedRecords() + reporter.abandonedRecords() > 0) {
        throw new IllegalStateException("records were lost: " + reporter.stats());
      }
      if (process instanceof NoopSink && ((NoopSink) process).records.get() < reporter.sentRecords()) {
        throw new IllegalStateException("the sink got fewer records than were acknowledged");
      }
      client.close();
      process.close();
    }
  }

  static void deploy(ArangopipeClient client) {
    Entity ds = client.registerDataset("bench-data", Map.of("rows", 1000));
    Entity model = client.registerModel("bench-model", Map.of("type", "LASSO"));
    client.logRun(LogRunRequest.newBuilder().setRunId("bench-run").setDeploymentTag(TAG).setModelId(model.getId())
        .setDatasetId(ds.getId()).setModelParams(Structs.toStruct(Map.of("alpha", 0.1)))
        .setDevPerf(Structs.toStruct(Map.of("rmse", 0.3))).build());
    client.registerDeployment(TAG);
  }

  /** record() {@value #RECORDS} times, then wait until the server acknowledged them all. */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public void reporter(Sink s) {
    ServingPerfReporter r = s.reporter;
    for (int i = 0; i < RECORDS; i++) {
      if (!r.record(TAG, Map.of("latency_ms", (double) i, "score", 0.5))) {
        throw new IllegalStateException("dropped: the buffer must hold one invocation");
      }
    }
    if (!r.flush(Duration.ofMinutes(5))) {
      throw new IllegalStateException("not acknowledged within 5 minutes: " + r.stats());
    }
  }

  /** The same records as ready-made batches of 500 on one stream (new request ids each time). */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public long serverRawBatches(Sink s) {
    List<StreamServingPerfRequest> fresh = new ArrayList<>(s.batches.size());
    for (StreamServingPerfRequest b : s.batches) {
      fresh.add(b.toBuilder().clearRequestId().build());
    }
    return s.client.streamServingPerf(fresh).getAcceptedRecords();
  }
}
