package io.arangopipe.client.jmh;

import io.arangopipe.client.ArangopipeClient;
import io.arangopipe.client.ServingPerfReporter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cost of {@link ServingPerfReporter#record} on the caller's thread, on the path every record takes
 * in production: into a buffer with room (the reporter's thread drains it between invocations, outside
 * the timing, to a server that acknowledges without storing).
 *
 * <p>Each invocation records {@value #RECORDS} records; times are per record. {@code callerBytes /
 * callerRecords} is what the calling thread allocated per record (ThreadMXBean), unlike {@code -prof gc}'s
 * {@code gc.alloc.rate.norm}, which counts every thread: also the reporter's own thread converting records
 * to protobuf, and the no-op sink (in the same JVM) parsing them.
 */
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class RecordBenchmark {
  static final int RECORDS = 10_000;
  static final String TAG = "bench-prod";

  /** The reporter, its client and the no-op sink. */
  @State(Scope.Benchmark)
  public static class Reporter {
    NoopSink sink;
    ArangopipeClient client;
    ServingPerfReporter reporter;
    long droppedBefore;

    @Setup(Level.Trial)
    public void start() throws Exception {
      sink = new NoopSink();
      client = ArangopipeClient.builder().target(sink.target()).build();
      reporter = client.servingPerfReporter(ServingPerfReporter.Options.builder().bufferCapacity(2 * RECORDS)
          .build());
    }

    /** Empties the buffer so the next invocation measures the path of a record that fits. */
    void drain() {
      if (!reporter.flush(Duration.ofSeconds(60))) {
        throw new IllegalStateException("the reporter did not drain: " + reporter.stats());
      }
      droppedBefore = reporter.droppedRecords();
    }

    void check() {
      if (reporter.droppedRecords() != droppedBefore) {
        throw new IllegalStateException("records were dropped: the measurement is not of the accepting path");
      }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      client.close();
      sink.close();
    }
  }

  /**
   * What the benchmark thread allocates. JMH sums EVENTS counters over the measurement iterations, so
   * both counters restart at each iteration and the report shows totals: bytes per record is
   * {@code callerBytes / callerRecords}.
   */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class CallerAllocation {
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    public long callerBytes;
    public long callerRecords;
    private long before;

    @Setup(Level.Iteration)
    public void reset() {
      callerBytes = 0;
      callerRecords = 0;
    }

    /** Drains the reporter (untimed), then notes what this thread has allocated so far. */
    @Setup(Level.Invocation)
    public void before(Reporter r) {
      r.drain();
      before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @TearDown(Level.Invocation)
    public void after(Reporter r) {
      callerBytes += THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
      callerRecords += RECORDS;
      r.check();
    }
  }

  /** Metric maps made once: the caller's record, not part of what is measured. */
  @State(Scope.Thread)
  public static class Maps {
    @SuppressWarnings("unchecked")
    final Map<String, Object>[] maps = new Map[RECORDS];

    @Setup(Level.Trial)
    public void make() {
      for (int i = 0; i < RECORDS; i++) {
        maps[i] = Map.of("latency_ms", 1.0 + i % 50, "score", 0.5);
      }
    }
  }

  /** One metric: {@code record(tag, name, value)} allocates nothing. */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public void recordOneMetric(Reporter r, CallerAllocation a, Blackhole bh) {
    ServingPerfReporter rep = r.reporter;
    for (int i = 0; i < RECORDS; i++) {
      bh.consume(rep.record(TAG, "latency_ms", i));
    }
  }

  /** A metrics map the caller already has (e.g. built for its own logging). */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public void recordPrebuiltMap(Reporter r, Maps m, CallerAllocation a, Blackhole bh) {
    ServingPerfReporter rep = r.reporter;
    Map<String, Object>[] maps = m.maps;
    for (int i = 0; i < RECORDS; i++) {
      bh.consume(rep.record(TAG, maps[i]));
    }
  }

  /** The usual call site: {@code record(tag, Map.of(...))}, the map made per call (the record itself). */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public void recordNewMap(Reporter r, CallerAllocation a, Blackhole bh) {
    ServingPerfReporter rep = r.reporter;
    for (int i = 0; i < RECORDS; i++) {
      bh.consume(rep.record(TAG, Map.of("latency_ms", (double) i, "score", 0.5)));
    }
  }
}
