package io.arangopipe.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import io.arangopipe.v1.ServingPerfRecord;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.github.resilience4j.core.IntervalFunction;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports serving performance from a serving layer's request path: {@link #record} costs a few tens of
 * nanoseconds, never blocks and never throws; a background thread batches the records and streams them
 * to {@code TrackingService.StreamServingPerf}. Get one from {@link ArangopipeClient#servingPerfReporter},
 * keep it for the life of the application, and close it (or the client) at shutdown.
 *
 * <h2>Policies</h2>
 *
 * <ul>
 *   <li><b>Buffer.</b> Records go into a bounded lock-free ring of {@link Options.Builder#bufferCapacity}
 *       pre-allocated slots (default 65,536). {@code record} stores references: the metrics map is read
 *       later, on the reporter's thread, so pass a map you no longer change (e.g. {@code Map.of(...)}).
 *       Beyond the ring, the reporter's thread holds at most {@code 2 * maxBatchesPerStream + 1} batches
 *       (sent and not yet acknowledged, or waiting to be sent again); it takes no more from the ring until
 *       they are acknowledged.
 *   <li><b>Drop policy: drop newest.</b> When the ring is full (the server has been unreachable for a
 *       while, or records arrive faster than it writes them), {@code record} refuses the new record,
 *       returns {@code false} and counts it in {@link #droppedRecords()}. Records already buffered are
 *       kept, so what reaches the server is a gap-free prefix of each outage, never a sample. Records
 *       passed after {@link #close()} began are dropped the same way.
 *   <li><b>Batching.</b> The reporter's thread sends a batch when it holds {@link Options.Builder#batchSize}
 *       records (default 500), or when its oldest record is {@link Options.Builder#flushInterval} old
 *       (default 200 ms), or on {@link #flush}/{@link #close}. Each batch gets its own {@code request_id}.
 *       Batches go on one {@code StreamServingPerf} call, as gRPC flow control admits them; the call is
 *       completed, and its batches acknowledged, when {@link Options.Builder#maxBatchesPerStream} batches
 *       are on it (default 32), when it is {@link Options.Builder#maxStreamDuration} old (default 5 s),
 *       or when there is nothing more to send.
 *   <li><b>Retries.</b> When a call fails with UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED or CANCELLED (the
 *       server is down, restarting or overloaded), every batch it had not acknowledged is sent again,
 *       unchanged and with the same {@code request_id}, after a jittered exponential backoff
 *       (resilience4j {@link IntervalFunction}: {@link Options.Builder#initialBackoff} 100 ms doubling up
 *       to {@link Options.Builder#maxBackoff} 5 s, ±50%). The server writes a batch at most once per
 *       request id, so a batch that was written before the connection broke is not written twice. These
 *       retries go on for as long as the reporter is open: while they do, the ring fills and the drop
 *       policy applies. RESOURCE_EXHAUSTED with ErrorInfo reason {@code STORE_FULL} (the disk holding the
 *       server's data is full) is retried the same way, until space is back. INTERNAL, UNKNOWN, other
 *       RESOURCE_EXHAUSTED and DATA_LOSS are retried the same way,
 *       but at most {@link Options.Builder#maxAttemptsOnServerError} times per batch (default 5); then
 *       the batch is counted as rejected.
 *   <li><b>Rejections.</b> A batch the server refuses (INVALID_ARGUMENT, NOT_FOUND: no deployment has
 *       the tag, FAILED_PRECONDITION: the deployment is archived) is written by the server not at all.
 *       The reporter removes the records the error names (for a deployment-tag error, every record of
 *       the batch with that tag; otherwise the one record) and counts them in {@link
 *       #rejectedRecords()}; the batch's other records are sent again at once as a new batch with a new
 *       {@code request_id}. A rejection the reporter cannot attribute to a record (and
 *       UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED) rejects the whole batch. Rejected records are
 *       never retried. Records whose metrics cannot be converted to a document (see {@link Structs}) and
 *       calls with an empty deployment tag are rejected too.
 *   <li><b>Close.</b> {@link #close()} stops accepting records, then keeps sending (and retrying) what is
 *       buffered for up to {@link Options.Builder#closeTimeout} (default 10 s). Records still unsent
 *       then are counted in {@link #abandonedRecords()} (a batch that was sent but not acknowledged may
 *       nevertheless have been written).
 * </ul>
 *
 * <p>Every {@code record} call ends in exactly one of the counters sent, dropped, rejected or abandoned,
 * or is still buffered ({@link #stats()}). After {@code close()}: {@code calls == sent + dropped + rejected
 * + abandoned}, and the server holds exactly {@code sent} of them (no duplicates).
 *
 * <p>Thread-safe: any number of threads may call {@code record}. The reporter's one thread does
 * everything else.
 */
public final class ServingPerfReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServingPerfReporter.class);
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final Pattern RECORD_INDEX = Pattern.compile("^records\\[(\\d+)\\]");
  private static final VarHandle WAKE_AT;

  static {
    try {
      WAKE_AT = MethodHandles.lookup().findVarHandle(ServingPerfReporter.class, "wakeAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Channel channel;
  private final Runnable resetConnectBackoff;
  private final Options options;
  private final Consumer<ServingPerfReporter> onClosed;
  private final RecordRing ring;
  private final Thread sender;
  private final IntervalFunction backoff;

  // Written by record() callers.
  private final LongAdder dropped = new LongAdder();
  private final LongAdder rejectedOnCall = new LongAdder();
  /** A producer that claims this position (or later) wakes the sender; Long.MAX_VALUE when not waiting. */
  @SuppressWarnings("unused") // through WAKE_AT
  private volatile long wakeAt = Long.MAX_VALUE;

  // Written by the sender thread, read by anyone.
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong rejectedLater = new AtomicLong();
  private final AtomicLong abandoned = new AtomicLong();
  private final AtomicLong sentBatches = new AtomicLong();
  private final AtomicLong failedBatches = new AtomicLong();
  private final AtomicLong streams = new AtomicLong();
  /** Accepted records that reached a final state: sent, rejected or abandoned. */
  private final AtomicLong settled = new AtomicLong();
  private final Object settleMonitor = new Object();

  // Written by flush() and close().
  private final AtomicLong flushTarget = new AtomicLong();
  private final AtomicBoolean closeCalled = new AtomicBoolean();
  private volatile boolean closing;
  private volatile long finalClaimed = Long.MAX_VALUE;
  private volatile long closeDeadlineNanos;

  // The sender thread's own state.
  private final List<ServingPerfRecord> building = new ArrayList<>();
  private long buildingOldestMillis;
  private final ArrayDeque<PendingBatch> backlog = new ArrayDeque<>();
  private final ArrayDeque<PendingBatch> inFlight = new ArrayDeque<>();
  private ServingPerfCall stream;
  private int consecutiveFailures;
  private long retryAtNanos = System.nanoTime();
  private long nextRejectLogNanos = System.nanoTime();
  private long rejectedSinceLog;
  private long nextDropLogNanos = System.nanoTime();
  private long droppedLogged;
  private int spins;

  /** A sealed batch: its records and request id never change, so resending it is idempotent. */
  private static final class PendingBatch {
    final StreamServingPerfRequest request;
    final int records;
    int serverErrors;

    PendingBatch(List<ServingPerfRecord> records) {
      this.request = StreamServingPerfRequest.newBuilder().addAllRecords(records)
          .setRequestId(ArangopipeClient.newRequestId()).build();
      this.records = records.size();
    }
  }

  ServingPerfReporter(Channel channel, Runnable resetConnectBackoff, Options options,
      Consumer<ServingPerfReporter> onClosed) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.resetConnectBackoff = resetConnectBackoff;
    this.options = Objects.requireNonNull(options, "options");
    this.onClosed = onClosed;
    this.ring = new RecordRing(options.bufferCapacity);
    this.backoff = RetryPolicy.backoff(options.initialBackoff, options.backoffMultiplier, options.jitter,
        options.maxBackoff);
    this.sender = new Thread(this::run, options.threadName);
    sender.setDaemon(true);
    sender.start();
  }

  // ---- the caller's side -----------------------------------------------------------------------------

  /**
   * Records serving metrics of a deployment, timed now. Never blocks, never throws.
   *
   * @param deploymentTag the deployment's tag
   * @param metrics e.g. {@code Map.of("latency_ms", 12.5, "score", 0.83)}; read later on the reporter's
   *     thread, so do not change it afterwards
   * @return true if buffered; false if dropped (buffer full, or closed) or rejected (empty tag)
   */
  public boolean record(String deploymentTag, Map<String, ?> metrics) {
    return offer(deploymentTag, metrics, null, 0);
  }

  /** Records serving metrics given as a Struct, timed now. Never blocks, never throws. */
  public boolean record(String deploymentTag, Struct metrics) {
    return offer(deploymentTag, metrics, null, 0);
  }

  /**
   * Records one metric, timed now; allocates nothing. Never blocks, never throws.
   *
   * @return true if buffered; false if dropped or rejected
   */
  public boolean record(String deploymentTag, String metric, double value) {
    if (metric == null) {
      rejectedOnCall.increment();
      return false;
    }
    return offer(deploymentTag, null, metric, value);
  }

  private boolean offer(String tag, Object metrics, String metric, double value) {
    try {
      if (tag == null || tag.isEmpty()) {
        rejectedOnCall.increment();
        return false;
      }
      long pos = ring.offer(tag, metrics, metric, value, System.currentTimeMillis());
      if (pos < 0) {
        dropped.increment();
        return false;
      }
      long w = (long) WAKE_AT.getVolatile(this);
      if (pos >= w && WAKE_AT.compareAndSet(this, w, Long.MAX_VALUE)) {
        LockSupport.unpark(sender);
      }
      return true;
    } catch (RuntimeException e) {
      // Nothing above throws; this is the promise that record() never does.
      dropped.increment();
      return false;
    }
  }

  /**
   * Waits until every record accepted before this call is sent (acknowledged by the server), rejected
   * or abandoned. Sends a partial batch at once instead of waiting for the flush interval.
   *
   * @return true if they all were within the timeout
   */
  public boolean flush(Duration timeout) {
    long target = ring.claimed();
    flushTarget.accumulateAndGet(target, Math::max);
    LockSupport.unpark(sender);
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (settleMonitor) {
      while (settled.get() < target) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !sender.isAlive()) {
          return settled.get() >= target;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(settleMonitor, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return settled.get() >= target;
        }
      }
    }
    return true;
  }

  /**
   * Stops accepting records, sends what is buffered (retrying while the server is unavailable) for up to
   * the close timeout, then stops the reporter's thread. Records still unsent are counted as abandoned.
   * Idempotent; a second call waits for the first to finish.
   */
  @Override
  public void close() {
    if (closeCalled.compareAndSet(false, true)) {
      finalClaimed = ring.close();
      closeDeadlineNanos = System.nanoTime() + options.closeTimeout.toNanos();
      closing = true;
      LockSupport.unpark(sender);
    }
    long waitMillis = options.closeTimeout.toMillis() + 5_000;
    try {
      sender.join(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (sender.isAlive()) {
      log.error("the serving-perf reporter's thread did not stop within {} ms", waitMillis);
    }
    if (onClosed != null) {
      onClosed.accept(this);
    }
  }

  // ---- counters --------------------------------------------------------------------------------------

  /** Records taken into the buffer. */
  public long acceptedRecords() {
    return ring.claimed();
  }

  /** Records refused by {@code record} because the buffer was full or the reporter closed (drop newest). */
  public long droppedRecords() {
    return dropped.sum();
  }

  /** Records the server acknowledged as written. */
  public long sentRecords() {
    return sent.get();
  }

  /** Records not written because they are invalid: refused by the server, or by {@code record}. */
  public long rejectedRecords() {
    return rejectedLater.get() + rejectedOnCall.sum();
  }

  /** Records still unsent when {@link #close()} ran out of time. */
  public long abandonedRecords() {
    return abandoned.get();
  }

  /** Batch sends that failed and were (or will be) sent again. */
  public long failedBatches() {
    return failedBatches.get();
  }

  /** A snapshot of every counter. */
  public Stats stats() {
    long accepted = ring.claimed();
    long s = sent.get();
    long rl = rejectedLater.get();
    long a = abandoned.get();
    return new Stats(accepted, dropped.sum(), s, rl + rejectedOnCall.sum(), a,
        Math.max(0, accepted - settled.get()), sentBatches.get(), failedBatches.get(), streams.get());
  }

  /** The options this reporter runs with. */
  public Options options() {
    return options;
  }

  // ---- the reporter's thread -------------------------------------------------------------------------

  private void run() {
    try {
      while (true) {
        boolean progressed = fill();
        progressed |= sendSome();
        progressed |= maybeFinish();
        logDrops(false);
        if (closing) {
          if (ring.consumed() == finalClaimed && building.isEmpty() && backlog.isEmpty() && inFlight.isEmpty()
              && stream == null) {
            break;
          }
          if (mustStop()) {
            break;
          }
        }
        if (!progressed) {
          idle();
        }
      }
    } catch (RuntimeException | Error e) {
      log.error("the serving-perf reporter stopped on an unexpected error; records from now on are dropped", e);
    } finally {
      abandonAll();
    }
  }

  /** Moves records from the ring into batches, while the backlog has room. */
  private boolean fill() {
    boolean progressed = false;
    while (backlog.size() < options.maxBatchesPerStream) {
      RecordRing.Slot s = ring.peek();
      if (s == null) {
        break;
      }
      long time = s.timeMillis;
      ServingPerfRecord rec = null;
      try {
        rec = toRecord(s);
      } catch (RuntimeException e) {
        rejected(1, "its metrics cannot be sent: " + e.getMessage());
      }
      ring.release(s);
      progressed = true;
      if (rec != null) {
        if (building.isEmpty()) {
          buildingOldestMillis = time;
        }
        building.add(rec);
        if (building.size() >= options.batchSize) {
          seal();
        }
      }
    }
    if (!building.isEmpty() && backlog.size() <= options.maxBatchesPerStream
        && (closing || System.currentTimeMillis() - buildingOldestMillis >= options.flushInterval.toMillis()
            || flushTarget.get() > ring.consumed() - building.size())) {
      seal();
      progressed = true;
    }
    return progressed;
  }

  private void seal() {
    backlog.addLast(new PendingBatch(building));
    building.clear();
  }

  private static ServingPerfRecord toRecord(RecordRing.Slot s) {
    ServingPerfRecord.Builder b = ServingPerfRecord.newBuilder().setDeploymentTag(s.tag)
        .setTime(Timestamp.newBuilder().setSeconds(Math.floorDiv(s.timeMillis, 1000))
            .setNanos(Math.floorMod(s.timeMillis, 1000) * 1_000_000));
    if (s.metric != null) {
      b.setMetrics(Struct.newBuilder().putFields(s.metric, Structs.toValue(s.value)));
    } else if (s.metrics instanceof Struct) {
      b.setMetrics((Struct) s.metrics);
    } else if (s.metrics != null) {
      @SuppressWarnings("unchecked")
      Map<String, ?> m = (Map<String, ?>) s.metrics;
      b.setMetrics(Structs.toStruct(m));
    }
    return b.build();
  }

  /** Sends backlog batches on the current stream, opening one if needed. */
  private boolean sendSome() {
    if (backlog.isEmpty() || inFlight.size() >= options.maxBatchesPerStream
        || System.nanoTime() - retryAtNanos < 0) {
      return false;
    }
    if (stream == null) {
      if (consecutiveFailures > 0 && resetConnectBackoff != null) {
        resetConnectBackoff.run();
      }
      stream = new ServingPerfCall(channel, CallOptions.DEFAULT
          .withDeadlineAfter(options.streamDeadline.toNanos(), TimeUnit.NANOSECONDS));
      streams.incrementAndGet();
    }
    boolean progressed = false;
    while (!backlog.isEmpty() && inFlight.size() < options.maxBatchesPerStream) {
      PendingBatch b = backlog.peekFirst();
      if (!stream.send(b.request, this::mustStop)) {
        finishStream();
        return true;
      }
      backlog.pollFirst();
      inFlight.addLast(b);
      progressed = true;
    }
    return progressed;
  }

  /** Completes the stream when it is full, old, idle or a flush waits for it. */
  private boolean maybeFinish() {
    if (stream == null) {
      return false;
    }
    boolean idle = backlog.isEmpty() && ring.peek() == null;
    if (inFlight.isEmpty()) {
      if (idle || stream.ended()) {
        stream.cancel("nothing to send");
        stream = null;
      }
      return false;
    }
    boolean full = inFlight.size() >= options.maxBatchesPerStream;
    boolean old = System.nanoTime() - stream.openedNanos() >= options.maxStreamDuration.toNanos();
    boolean flushWaits = backlog.isEmpty() && flushTarget.get() > settled.get();
    if (full || old || idle || flushWaits || stream.ended()) {
      finishStream();
      return true;
    }
    return false;
  }

  private void finishStream() {
    ServingPerfCall s = stream;
    stream = null;
    try {
      StreamServingPerfResponse r = s.finish(this::mustStop);
      if (r.getAcceptedBatches() != inFlight.size()) {
        log.warn("StreamServingPerf acknowledged {} batches where {} were sent; counting the batches sent",
            r.getAcceptedBatches(), inFlight.size());
      }
      acknowledge(inFlight.size());
      if (consecutiveFailures > 0) {
        log.info("Arangopipe is reachable again: serving-perf records flow after {} failed attempts",
            consecutiveFailures);
        consecutiveFailures = 0;
      }
    } catch (StatusRuntimeException e) {
      onFailure(e);
    }
  }

  /** Acknowledges the first n in-flight batches. */
  private void acknowledge(int n) {
    long records = 0;
    for (int i = 0; i < n; i++) {
      records += inFlight.pollFirst().records;
    }
    sent.addAndGet(records);
    sentBatches.addAndGet(n);
    settle(records);
  }

  private void onFailure(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    long[] progress = ArangopipeClient.progress(e);
    if (progress != null) {
      acknowledge((int) Math.min(progress[0], inFlight.size()));
    }
    List<PendingBatch> rest = new ArrayList<>(inFlight);
    inFlight.clear();
    // The failing batch: the first one not acknowledged, or, when the call failed before any batch
    // went out, the one it was opened for.
    if (rest.isEmpty() && !backlog.isEmpty()) {
      rest.add(backlog.pollFirst());
    }
    switch (classify(code, e)) {
      case REJECT:
        if (!rest.isEmpty()) {
          PendingBatch bad = rest.remove(0);
          PendingBatch remainder = reject(bad, e);
          requeue(rest);
          if (remainder != null) {
            backlog.addFirst(remainder);
          }
        }
        break;
      case RETRY_LIMITED:
        if (!rest.isEmpty() && ++rest.get(0).serverErrors >= options.maxAttemptsOnServerError) {
          PendingBatch bad = rest.remove(0);
          rejected(bad.records, describe(e) + " (after " + bad.serverErrors + " attempts)");
        }
        backOff(e, rest);
        break;
      case RETRY:
      default:
        backOff(e, rest);
        break;
    }
  }

  private void backOff(StatusRuntimeException e, List<PendingBatch> rest) {
    failedBatches.addAndGet(rest.size());
    requeue(rest);
    consecutiveFailures++;
    long waitMillis = backoff.apply(consecutiveFailures);
    retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    if (consecutiveFailures == 1) {
      log.warn("Arangopipe StreamServingPerf failed ({}); {} batches will be sent again, with backoff; up to {}"
          + " records are buffered meanwhile", describe(e), backlog.size(), ring.capacity());
    } else {
      log.debug("StreamServingPerf failed again ({}), attempt {}; next try in {} ms", describe(e),
          consecutiveFailures, waitMillis);
    }
  }

  private void requeue(List<PendingBatch> batches) {
    for (int i = batches.size() - 1; i >= 0; i--) {
      backlog.addFirst(batches.get(i));
    }
  }

  /**
   * Removes from a rejected batch the records the error names and counts them as rejected; returns the
   * batch's other records as a new batch (new request id), or null.
   */
  private PendingBatch reject(PendingBatch bad, StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    List<ServingPerfRecord> records = bad.request.getRecordsList();
    String field = offendingField(e);
    int index = -1;
    if (field != null) {
      Matcher m = RECORD_INDEX.matcher(field);
      if (m.find()) {
        index = Integer.parseInt(m.group(1));
      }
    }
    boolean wholeBatch = code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED
        || code == Status.Code.UNIMPLEMENTED || index < 0 || index >= records.size();
    if (wholeBatch) {
      rejected(records.size(), describe(e));
      return null;
    }
    boolean byTag = field.contains("deployment_tag");
    String tag = records.get(index).getDeploymentTag();
    List<ServingPerfRecord> keep = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      ServingPerfRecord r = records.get(i);
      if (byTag ? !r.getDeploymentTag().equals(tag) : i != index) {
        keep.add(r);
      }
    }
    rejected(records.size() - keep.size(), describe(e));
    return keep.isEmpty() ? null : new PendingBatch(keep);
  }

  /** The field the error names: a BadRequest violation's field, or the message's "records[i]..." prefix. */
  private static String offendingField(StatusRuntimeException e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s != null) {
      for (Any a : s.getDetailsList()) {
        if (a.is(BadRequest.class)) {
          try {
            BadRequest br = a.unpack(BadRequest.class);
            if (br.getFieldViolationsCount() > 0) {
              return br.getFieldViolations(0).getField();
            }
          } catch (InvalidProtocolBufferException ignored) {
            // fall back to the message
          }
        }
      }
    }
    String d = e.getStatus().getDescription();
    if (d != null && RECORD_INDEX.matcher(d).find()) {
      int colon = d.indexOf(':');
      return colon > 0 ? d.substring(0, colon) : d;
    }
    return null;
  }

  private enum Handling { RETRY, RETRY_LIMITED, REJECT }

  private static Handling classify(Status.Code code, StatusRuntimeException e) {
    if (code == Status.Code.RESOURCE_EXHAUSTED && isStoreFull(e)) {
      return Handling.RETRY; // the server's disk is full: wait for space like for a server that is down
    }
    switch (code) {
      case UNAVAILABLE:
      case DEADLINE_EXCEEDED:
      case ABORTED:
      case CANCELLED:
        return Handling.RETRY;
      case INTERNAL:
      case UNKNOWN:
      case RESOURCE_EXHAUSTED:
      case DATA_LOSS:
        return Handling.RETRY_LIMITED;
      default:
        return Handling.REJECT;
    }
  }

  /** RESOURCE_EXHAUSTED because the disk holding the server's data is full (ErrorInfo reason STORE_FULL). */
  private static boolean isStoreFull(StatusRuntimeException e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      return false;
    }
    for (Any d : s.getDetailsList()) {
      if (d.is(com.google.rpc.ErrorInfo.class)) {
        try {
          if ("STORE_FULL".equals(d.unpack(com.google.rpc.ErrorInfo.class).getReason())) {
            return true;
          }
        } catch (InvalidProtocolBufferException ignored) {
          // not an ErrorInfo after all
        }
      }
    }
    return false;
  }

  private void rejected(long n, String why) {
    if (n <= 0) {
      return;
    }
    rejectedLater.addAndGet(n);
    settle(n);
    rejectedSinceLog += n;
    long now = System.nanoTime();
    if (now - nextRejectLogNanos >= 0) {
      log.warn("Arangopipe rejected {} serving-perf records, which are dropped: {} ({} rejected in all)",
          rejectedSinceLog, why, rejectedLater.get());
      rejectedSinceLog = 0;
      nextRejectLogNanos = now + LOG_EVERY_NANOS;
    }
  }

  private void logDrops(boolean now) {
    long d = dropped.sum();
    if (d > droppedLogged && (now || System.nanoTime() - nextDropLogNanos >= 0)) {
      log.warn("the serving-perf buffer ({} records) was full: {} records dropped ({} in all)", ring.capacity(),
          d - droppedLogged, d);
      droppedLogged = d;
      nextDropLogNanos = System.nanoTime() + LOG_EVERY_NANOS;
    }
  }

  private static String describe(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    return e.getStatus().getCode() + (d == null ? "" : ": " + d);
  }

  private void settle(long n) {
    settled.addAndGet(n);
    synchronized (settleMonitor) {
      settleMonitor.notifyAll();
    }
  }

  private boolean mustStop() {
    return closing && System.nanoTime() - closeDeadlineNanos >= 0;
  }

  /** Parks until a batch fills, the oldest record is due, a retry is due, or flush/close wakes us. */
  private void idle() {
    long now = System.nanoTime();
    long wait = options.flushInterval.toNanos();
    if (!building.isEmpty()) {
      long dueMillis = buildingOldestMillis + options.flushInterval.toMillis() - System.currentTimeMillis();
      wait = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(Math.max(dueMillis, 1)));
    }
    if (!backlog.isEmpty() && retryAtNanos - now > 0) {
      wait = Math.min(wait, retryAtNanos - now);
    }
    if (closing) {
      wait = Math.min(wait, Math.max(closeDeadlineNanos - now, 0));
    }
    boolean canFill = backlog.size() < options.maxBatchesPerStream;
    if (canFill && ring.size() > 0 && spins++ < 1000) {
      // A producer has claimed a slot and is writing it: it is published within nanoseconds.
      Thread.onSpinWait();
      Thread.yield();
      return;
    }
    spins = 0;
    if (canFill && ring.size() > 0) {
      wait = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(1));
    }
    if (canFill) {
      long target = ring.consumed() + (options.batchSize - building.size()) - 1;
      WAKE_AT.setVolatile(this, target);
      if (ring.claimed() > target) {
        WAKE_AT.setVolatile(this, Long.MAX_VALUE);
        return;
      }
    }
    if (wait > 0) {
      LockSupport.parkNanos(this, wait);
    }
    WAKE_AT.setVolatile(this, Long.MAX_VALUE);
  }

  /** On the way out: whatever was not sent is abandoned. */
  private void abandonAll() {
    if (!ring.isClosed()) {
      finalClaimed = ring.close(); // stopped by a bug: refuse new records from now on
    }
    if (stream != null) {
      stream.cancel("the serving-perf reporter closed");
      stream = null;
    }
    long n = building.size();
    building.clear();
    for (PendingBatch b : backlog) {
      n += b.records;
    }
    backlog.clear();
    for (PendingBatch b : inFlight) {
      n += b.records;
    }
    inFlight.clear();
    long spinUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    while (ring.consumed() < finalClaimed && System.nanoTime() - spinUntil < 0) {
      RecordRing.Slot s = ring.peek();
      if (s == null) {
        Thread.onSpinWait();
        continue;
      }
      ring.release(s);
      n++;
    }
    n += finalClaimed - ring.consumed(); // claimed but never published: a producer died mid-write
    if (n > 0) {
      abandoned.addAndGet(n);
      settle(n);
      log.warn("the serving-perf reporter closed with {} records unsent; they are counted as abandoned", n);
    }
    logDrops(true);
  }

  // ---- options and stats -----------------------------------------------------------------------------

  /** The reporter's settings; {@link #defaults()} or {@link #builder()}. Immutable. */
  public static final class Options {
    final int bufferCapacity;
    final int batchSize;
    final Duration flushInterval;
    final int maxBatchesPerStream;
    final Duration maxStreamDuration;
    final Duration streamDeadline;
    final Duration initialBackoff;
    final Duration maxBackoff;
    final double backoffMultiplier;
    final double jitter;
    final int maxAttemptsOnServerError;
    final Duration closeTimeout;
    final String threadName;

    private Options(Builder b) {
      this.bufferCapacity = b.bufferCapacity;
      this.batchSize = b.batchSize;
      this.flushInterval = b.flushInterval;
      this.maxBatchesPerStream = b.maxBatchesPerStream;
      this.maxStreamDuration = b.maxStreamDuration;
      this.streamDeadline = b.streamDeadline;
      this.initialBackoff = b.initialBackoff;
      this.maxBackoff = b.maxBackoff;
      this.backoffMultiplier = b.backoffMultiplier;
      this.jitter = b.jitter;
      this.maxAttemptsOnServerError = b.maxAttemptsOnServerError;
      this.closeTimeout = b.closeTimeout;
      this.threadName = b.threadName;
    }

    public static Options defaults() {
      return builder().build();
    }

    public static Builder builder() {
      return new Builder();
    }

    public int bufferCapacity() {
      return bufferCapacity;
    }

    public int batchSize() {
      return batchSize;
    }

    public Duration flushInterval() {
      return flushInterval;
    }

    public Duration closeTimeout() {
      return closeTimeout;
    }

    @Override
    public String toString() {
      return "Options{bufferCapacity=" + bufferCapacity + ", batchSize=" + batchSize + ", flushInterval="
          + flushInterval + ", maxBatchesPerStream=" + maxBatchesPerStream + ", maxStreamDuration="
          + maxStreamDuration + ", streamDeadline=" + streamDeadline + ", backoff=" + initialBackoff + ".."
          + maxBackoff + " x" + backoffMultiplier + " ±" + jitter + ", maxAttemptsOnServerError="
          + maxAttemptsOnServerError + ", closeTimeout=" + closeTimeout + "}";
    }

    /** Builds {@link Options}. */
    public static final class Builder {
      private int bufferCapacity = 1 << 16;
      private int batchSize = 500;
      private Duration flushInterval = Duration.ofMillis(200);
      private int maxBatchesPerStream = 32;
      private Duration maxStreamDuration = Duration.ofSeconds(5);
      private Duration streamDeadline = Duration.ofSeconds(60);
      private Duration initialBackoff = Duration.ofMillis(100);
      private Duration maxBackoff = Duration.ofSeconds(5);
      private double backoffMultiplier = 2.0;
      private double jitter = 0.5;
      private int maxAttemptsOnServerError = 5;
      private Duration closeTimeout = Duration.ofSeconds(10);
      private String threadName = "arangopipe-serving-perf";

      private Builder() {}

      /** Records the buffer holds (rounded up to a power of two; 2 to 2^24). Default 65,536. */
      public Builder bufferCapacity(int records) {
        if (records < 2 || records > 1 << 24) {
          throw new IllegalArgumentException("bufferCapacity must be between 2 and 16777216 (got " + records + ")");
        }
        this.bufferCapacity = Integer.highestOneBit(records - 1) << 1;
        return this;
      }

      /** Records per batch, 1 to 1000 (the server's limit). Default 500. */
      public Builder batchSize(int records) {
        if (records < 1 || records > 1000) {
          throw new IllegalArgumentException("batchSize must be between 1 and 1000 (got " + records + ")");
        }
        this.batchSize = records;
        return this;
      }

      /** The longest a record waits for its batch to fill. Default 200 ms. */
      public Builder flushInterval(Duration interval) {
        this.flushInterval = RetryPolicy.Builder.positive("flushInterval", interval);
        return this;
      }

      /** Batches sent on one stream before it is completed and acknowledged. Default 32. */
      public Builder maxBatchesPerStream(int batches) {
        if (batches < 1 || batches > 10_000) {
          throw new IllegalArgumentException("maxBatchesPerStream must be between 1 and 10000 (got " + batches + ")");
        }
        this.maxBatchesPerStream = batches;
        return this;
      }

      /** How long a stream stays open before it is completed and acknowledged. Default 5 s. */
      public Builder maxStreamDuration(Duration duration) {
        this.maxStreamDuration = RetryPolicy.Builder.positive("maxStreamDuration", duration);
        return this;
      }

      /** The deadline of each stream call. Default 60 s. */
      public Builder streamDeadline(Duration deadline) {
        this.streamDeadline = RetryPolicy.Builder.positive("streamDeadline", deadline);
        return this;
      }

      /** The first wait after a failure. Default 100 ms. */
      public Builder initialBackoff(Duration backoff) {
        this.initialBackoff = RetryPolicy.Builder.positive("initialBackoff", backoff);
        return this;
      }

      /** The longest wait between attempts. Default 5 s. */
      public Builder maxBackoff(Duration backoff) {
        this.maxBackoff = RetryPolicy.Builder.positive("maxBackoff", backoff);
        return this;
      }

      /** Growth of the wait per failure, at least 1. Default 2. */
      public Builder backoffMultiplier(double multiplier) {
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
          throw new IllegalArgumentException("backoffMultiplier must be at least 1 (got " + multiplier + ")");
        }
        this.backoffMultiplier = multiplier;
        return this;
      }

      /** Randomization of each wait, in [0, 1). Default 0.5 (50% to 150%). */
      public Builder jitter(double jitter) {
        if (!(jitter >= 0.0 && jitter < 1.0)) {
          throw new IllegalArgumentException("jitter must be in [0, 1) (got " + jitter + ")");
        }
        this.jitter = jitter;
        return this;
      }

      /** Attempts per batch on INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED or DATA_LOSS. Default 5. */
      public Builder maxAttemptsOnServerError(int attempts) {
        if (attempts < 1) {
          throw new IllegalArgumentException("maxAttemptsOnServerError must be at least 1 (got " + attempts + ")");
        }
        this.maxAttemptsOnServerError = attempts;
        return this;
      }

      /** How long {@code close()} keeps sending what is buffered. Default 10 s. */
      public Builder closeTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "closeTimeout");
        if (timeout.isNegative()) {
          throw new IllegalArgumentException("closeTimeout must not be negative");
        }
        this.closeTimeout = timeout;
        return this;
      }

      /** The name of the reporter's thread. */
      public Builder threadName(String name) {
        this.threadName = Objects.requireNonNull(name, "threadName");
        return this;
      }

      public Options build() {
        if (maxBackoff.compareTo(initialBackoff) < 0) {
          throw new IllegalArgumentException("maxBackoff is shorter than initialBackoff");
        }
        return new Options(this);
      }
    }
  }

  /** The reporter's counters at one moment. */
  public static final class Stats {
    private final long accepted;
    private final long dropped;
    private final long sent;
    private final long rejected;
    private final long abandoned;
    private final long buffered;
    private final long sentBatches;
    private final long failedBatches;
    private final long streams;

    Stats(long accepted, long dropped, long sent, long rejected, long abandoned, long buffered, long sentBatches,
        long failedBatches, long streams) {
      this.accepted = accepted;
      this.dropped = dropped;
      this.sent = sent;
      this.rejected = rejected;
      this.abandoned = abandoned;
      this.buffered = buffered;
      this.sentBatches = sentBatches;
      this.failedBatches = failedBatches;
      this.streams = streams;
    }

    /** Records taken into the buffer. */
    public long accepted() {
      return accepted;
    }

    /** Records refused because the buffer was full or the reporter closed. */
    public long dropped() {
      return dropped;
    }

    /** Records the server acknowledged. */
    public long sent() {
      return sent;
    }

    /** Records refused as invalid, by {@code record} or by the server. */
    public long rejected() {
      return rejected;
    }

    /** Records unsent when {@code close()} ran out of time. */
    public long abandoned() {
      return abandoned;
    }

    /** Accepted records not yet sent, rejected or abandoned. */
    public long buffered() {
      return buffered;
    }

    /** Batches the server acknowledged. */
    public long sentBatches() {
      return sentBatches;
    }

    /** Batch sends that failed and were sent again. */
    public long failedBatches() {
      return failedBatches;
    }

    /** StreamServingPerf calls opened. */
    public long streams() {
      return streams;
    }

    @Override
    public String toString() {
      return "Stats{accepted=" + accepted + ", dropped=" + dropped + ", sent=" + sent + ", rejected=" + rejected
          + ", abandoned=" + abandoned + ", buffered=" + buffered + ", sentBatches=" + sentBatches
          + ", failedBatches=" + failedBatches + ", streams=" + streams + "}";
    }
  }
}
