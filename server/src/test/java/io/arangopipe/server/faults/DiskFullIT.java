package io.arangopipe.server.faults;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.arangopipe.server.JarServer;
import io.arangopipe.server.faults.RunLoad.Ack;
import io.arangopipe.server.faults.RunLoad.Attempt;
import io.arangopipe.server.faults.RunLoad.Fixture;
import io.arangopipe.server.faults.RunLoad.Tally;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.LineageDirection;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.SearchRunsRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk under the data folder stops taking writes while the server runs, then takes them again.
 *
 * <ul>
 *   <li>{@link #aFileSizeLimitFailsWritesUntilLiftedLive}: {@code prlimit --pid} puts a 1-byte file-size
 *       limit (RLIMIT_FSIZE) on the running server, so every write(2) to its database fails with EFBIG (the JVM
 *       ignores SIGXFSZ), and lifts it again while the server runs. Needs only prlimit (util-linux) and the
 *       same user: runs everywhere CI runs.
 *   <li>{@link #aFullFileSystemFailsWritesUntilSpaceReturns}: the data folder on a small tmpfs, filled up by a
 *       filler file (ENOSPC, SQLITE_FULL), then the filler is deleted. Needs {@code mount} (root or
 *       CAP_SYS_ADMIN); skipped, saying why, where mounting is not allowed.
 * </ul>
 *
 * <p>During the fault: every write gets a clear status that says what to do (RESOURCE_EXHAUSTED for a full
 * disk, UNAVAILABLE for an I/O error), never INTERNAL; a write that failed left nothing behind; reads keep
 * working and health stays SERVING (reads work, and a restart would not free the disk: the signal is the
 * status and {@code arangopipe_store_write_failures_total}). Afterwards: every failed request id succeeds on
 * retry, new writes succeed, and after a graceful stop {@code PRAGMA integrity_check} is ok and the file holds
 * exactly the acknowledged runs, complete.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DiskFullIT {
  private static final int WRITERS = 16;
  private static final int WRITES_EACH = 8;
  private static final int READERS = 4;
  private static final int READS_EACH = 15;
  /** Filler characters per run's model params: each write needs new pages. */
  private static final int PADDING = 3000;

  @TempDir Path tmp;
  private final List<JarServer> servers = new ArrayList<>();
  private Path mountPoint;

  @AfterEach
  void tearDown() throws Exception {
    servers.forEach(JarServer::close);
    if (mountPoint != null) {
      run("umount", "-l", mountPoint.toString());
    }
  }

  /** A fault that can be switched on and off while the server runs. */
  interface Fault {
    void inject(JarServer s) throws Exception;

    void lift(JarServer s) throws Exception;
  }

  @Test
  void aFileSizeLimitFailsWritesUntilLiftedLive() throws Exception {
    Result probe = run("prlimit", "--version");
    Assumptions.assumeTrue(probe.exit == 0, "skipped: no prlimit here (util-linux): " + probe.output);
    Path data = Files.createDirectories(tmp.resolve("data"));
    exercise("file-size limit", data, new Fault() {
      String hard;

      @Override
      public void inject(JarServer s) throws Exception {
        hard = limit(s, "HARD");
        Result r = run("prlimit", "--pid", Long.toString(s.pid()), "--fsize=1:");
        assertThat(r.exit).as("prlimit --pid %s --fsize=1: (%s)", s.pid(), r.output).isZero();
        assertThat(limit(s, "SOFT")).as("the server's soft file-size limit").isEqualTo("1");
      }

      @Override
      public void lift(JarServer s) throws Exception {
        Result r = run("prlimit", "--pid", Long.toString(s.pid()), "--fsize=" + hard + ":");
        assertThat(r.exit).as("prlimit --pid %s --fsize=%s: (%s)", s.pid(), hard, r.output).isZero();
        assertThat(limit(s, "SOFT")).as("the server's soft file-size limit").isEqualTo(hard);
      }
    }, Set.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED), false, false);
  }

  @Test
  void aFullFileSystemFailsWritesUntilSpaceReturns() throws Exception {
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Result mount = run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt.toString());
    Assumptions.assumeTrue(mount.exit == 0,
        "skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): " + mount.output);
    mountPoint = mnt;
    Path data = Files.createDirectories(mnt.resolve("data"));
    Path filler = mnt.resolve("filler");
    exercise("full file system", data, new Fault() {
      @Override
      public void inject(JarServer s) throws Exception {
        long written = fill(filler);
        System.out.printf("DiskFullIT: filler of %d bytes; %d bytes left%n", written,
            Files.getFileStore(mnt).getUsableSpace());
      }

      @Override
      public void lift(JarServer s) throws Exception {
        Files.delete(filler);
      }
    }, Set.of(Status.Code.RESOURCE_EXHAUSTED), true, true);
  }

  /**
   * The whole scenario for one fault. {@code someMaySucceed}: on a full file system a write that fits into
   * pages SQLite already has (the WAL is reused after a checkpoint) still succeeds, and must then be durable.
   * {@code crashDuringFault}: before the fault is lifted the server gets {@code kill -9} and a new one starts on
   * the still-full disk: it must start, serve reads, and refuse writes the same way.
   */
  private void exercise(String what, Path data, Fault fault, Set<Status.Code> expected, boolean someMaySucceed,
      boolean crashDuringFault) throws Exception {
    JarServer s = start(data, "1");
    try {
      Fixture fixture = RunLoad.register(s);
      Map<String, Ack> acked = new ConcurrentHashMap<>();
      List<Attempt> preload = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        Attempt a = new Attempt("d-pre-" + i, 99, i);
        preload.add(a);
        acked.put(a.runKey(), RunLoad.ack(a, s.tracking().logRun(RunLoad.request(a, fixture, PADDING))));
      }
      double failuresBefore = JarServer.sum(s.scrape(), "arangopipe_store_write_failures_total");

      fault.inject(s);

      // Writers and readers at the same time, against the broken disk.
      Tally writes = new Tally();
      Tally reads = new Tally();
      ConcurrentLinkedQueue<Attempt> failed = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
      Map<Status.Code, String> sampleMessages = new ConcurrentHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS);
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int client = w;
        ManagedChannel channel = s.newChannel();
        futures.add(pool.submit(() -> {
          for (int seq = 0; seq < WRITES_EACH; seq++) {
            Attempt a = new Attempt("d-during-c" + client + "-" + seq, client, seq);
            try {
              acked.put(a.runKey(), RunLoad.ack(a, JarServer.tracking(channel).logRun(
                  RunLoad.request(a, fixture, PADDING))));
              writes.add("OK");
            } catch (StatusRuntimeException e) {
              writes.add(e.getStatus().getCode());
              sampleMessages.putIfAbsent(e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
              String problem = unclear(e, expected);
              if (problem != null) {
                problems.add(a.runKey() + ": " + problem);
              }
              failed.add(a);
            }
          }
          // Another kind of write: a registration.
          try {
            JarServer.tracking(channel).registerDataset(RegisterDatasetRequest.newBuilder()
                .setName("d-dataset-" + client).setProject(RunLoad.PROJECT).build());
            writes.add("OK");
          } catch (StatusRuntimeException e) {
            writes.add(e.getStatus().getCode());
            String problem = unclear(e, expected);
            if (problem != null) {
              problems.add("RegisterDataset " + client + ": " + problem);
            }
          }
          return null;
        }));
      }
      for (int r = 0; r < READERS; r++) {
        ManagedChannel channel = s.newChannel();
        futures.add(pool.submit(() -> {
          for (int i = 0; i < READS_EACH; i++) {
            try {
              Attempt a = preload.get(i % preload.size());
              assertThat(JarServer.tracking(channel).getRun(GetRunRequest.newBuilder().setRunId(a.runKey()).build())
                  .getModelParams().getId()).isEqualTo(acked.get(a.runKey()).modelParamsId());
              assertThat(LineageServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(JarServer.CALL_DEADLINE.toMillis(), MILLISECONDS)
                  .searchRuns(SearchRunsRequest.newBuilder().setProject(RunLoad.PROJECT)
                      .setFilter("tag = 'client-99'").setPageSize(1000).build()).getRunsCount())
                  .isEqualTo(preload.size());
              assertThat(LineageServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(JarServer.CALL_DEADLINE.toMillis(), MILLISECONDS)
                  .getLineage(GetLineageRequest.newBuilder().setStartId(fixture.datasetId())
                      .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(2).build())
                  .getNodesCount()).isGreaterThan(preload.size());
              reads.add("OK");
            } catch (StatusRuntimeException e) {
              reads.add(e.getStatus().getCode());
              problems.add("a read failed during the fault: " + e.getStatus());
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(5, TimeUnit.MINUTES);
      }
      pool.shutdownNow();
      s.assertServing("during the fault");
      double failuresDuring = JarServer.sum(s.scrape(), "arangopipe_store_write_failures_total") - failuresBefore;
      System.out.printf("DiskFullIT %s: writes %s, reads %s, store write failures counted %.0f%n", what, writes,
          reads, failuresDuring);
      sampleMessages.forEach((code, msg) -> System.out.printf("DiskFullIT %s: %s: %s%n", what, code, msg));
      assertThat(problems).as("unclear statuses, or failed reads, during the fault (%s)", what).isEmpty();
      assertThat(writes.get("INTERNAL")).isZero();
      assertThat(failed).as("writes that failed during the fault").isNotEmpty();
      if (!someMaySucceed) {
        assertThat(writes.get("OK")).as("writes that succeeded despite the fault").isZero();
      }
      assertThat(failuresDuring).as("arangopipe_store_write_failures_total grew").isPositive();

      // A write that failed left nothing: GetRun says NOT_FOUND, and the file agrees (read-only, live).
      for (Attempt a : failed) {
        try {
          s.tracking().getRun(GetRunRequest.newBuilder().setRunId(a.runKey()).build());
          problems.add(a.runKey() + " failed but exists");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).as("GetRun of failed %s", a.runKey()).isEqualTo(Status.Code.NOT_FOUND);
        }
      }
      assertThat(problems).isEmpty();
      List<String> failedKeys = failed.stream().map(Attempt::runKey).toList();
      try (StoreFile db = StoreFile.openReadOnly(data)) {
        RunLoad.Reconciliation r = RunLoad.reconcile(db, "d-", acked, failedKeys);
        r.assertClean("during the fault (" + what + ")");
        assertThat(r.unacknowledgedComplete()).as("failed writes found in the file").isZero();
      }

      if (crashDuringFault) {
        s.kill9();
        try (StoreFile db = StoreFile.openReadOnly(data)) {
          assertThat(db.integrityCheck()).as("PRAGMA integrity_check after kill -9 on a full disk").isEqualTo("ok");
          RunLoad.reconcile(db, "d-", acked, failedKeys).assertClean("after kill -9 on a full disk");
        }
        s = start(data, "1b");
        s.assertServing("restarted on the full disk");
        assertThat(s.tracking().getRun(GetRunRequest.newBuilder().setRunId("d-pre-0").build()).getDevPerf().getId())
            .isEqualTo(acked.get("d-pre-0").devPerfId());
        Attempt a = failed.peek();
        try {
          s.tracking().logRun(RunLoad.request(a, fixture, PADDING));
          problems.add(a.runKey() + " was written on a full disk after the restart");
        } catch (StatusRuntimeException e) {
          String problem = unclear(e, expected);
          if (problem != null) {
            problems.add("after the restart on a full disk: " + problem);
          }
        }
        assertThat(problems).isEmpty();
        System.out.printf("DiskFullIT %s: kill -9 during the fault; the new server started on the full disk,"
            + " served reads and refused a write with %s%n", what, expected);
      }

      fault.lift(s);

      // Space is back: the same server takes writes again, and every failed request id succeeds on retry.
      Map<String, Attempt> byKey = new HashMap<>();
      failed.forEach(a -> byKey.put(a.runKey(), a));
      KillNineUnderLoadIT.parallel(s, failedKeys, (channel, key) -> {
        Attempt a = byKey.get(key);
        acked.put(key, RunLoad.ack(a, JarServer.tracking(channel).logRun(RunLoad.request(a, fixture, PADDING))));
      });
      for (int i = 0; i < 10; i++) {
        Attempt a = new Attempt("d-after-" + i, 98, i);
        acked.put(a.runKey(), RunLoad.ack(a, s.tracking().logRun(RunLoad.request(a, fixture, PADDING))));
      }
      s.assertServing("after the fault");
      System.out.printf("DiskFullIT %s: after the fault, %d retries of failed request ids and 10 new writes"
          + " succeeded%n", what, failedKeys.size());

      List<String> bugs = servers.stream().flatMap(x -> x.lines.stream())
          .filter(l -> l.contains("internal error") || l.contains("bug:")).toList();
      assertThat(bugs).as("internal errors in the server log").isEmpty();
      long errorLines = servers.stream().mapToLong(x -> x.errorLines().size()).sum();
      s.stop();
      try (StoreFile db = StoreFile.openReadOnly(data)) {
        assertThat(db.integrityCheck()).as("PRAGMA integrity_check after the fault (%s)", what).isEqualTo("ok");
        RunLoad.reconcile(db, "d-", acked, List.of()).assertClean("after the fault (" + what + ")");
      }
      // And a new server on the folder serves them.
      JarServer again = start(data, "2");
      for (String key : List.of("d-pre-0", failedKeys.get(0), "d-after-9")) {
        assertThat(again.tracking().getRun(GetRunRequest.newBuilder().setRunId(key).build()).getDevPerf().getId())
            .isEqualTo(acked.get(key).devPerfId());
      }
      System.out.printf("DiskFullIT %s: server log ERROR lines during the fault: %d; integrity_check ok;"
          + " %d acknowledged runs complete after restart%n", what, errorLines, acked.size());
    } catch (Throwable t) {
      servers.forEach(x -> System.out.println("---- server " + x.name + " log tail ----\n" + x.tail()));
      throw t;
    }
  }

  /** Why a failed write's status is not a clear one, or null when it is. */
  private static String unclear(StatusRuntimeException e, Set<Status.Code> expected) {
    Status.Code code = e.getStatus().getCode();
    String msg = String.valueOf(e.getStatus().getDescription());
    if (!expected.contains(code)) {
      return "status " + code + " (expected one of " + expected + "): " + msg;
    }
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    boolean hasInfo = details != null && details.getDetailsList().stream().anyMatch(d -> d.is(ErrorInfo.class));
    if (!hasInfo) {
      return "no ErrorInfo detail: " + msg;
    }
    String lower = msg.toLowerCase(java.util.Locale.ROOT);
    boolean saysWhatToDo = code == Status.Code.RESOURCE_EXHAUSTED
        ? lower.contains("is full") && lower.contains("free space") && lower.contains("retry")
        : lower.contains("retry");
    boolean saysNothingWritten = lower.contains("nothing was written");
    return saysWhatToDo && saysNothingWritten ? null : "the message does not say what happened and what to do: "
        + msg;
  }

  private JarServer start(Path data, String n) throws Exception {
    JarServer s = JarServer.start("disk-" + n, data, tmp, "--metrics-port", "0");
    servers.add(s);
    return s;
  }

  /** The server's file-size limit, SOFT or HARD, as prlimit prints it raw ("unlimited" or a number). */
  private static String limit(JarServer s, String which) throws Exception {
    Result r = run("prlimit", "--pid", Long.toString(s.pid()), "--fsize", "--raw", "--noheadings", "-o", which);
    assertThat(r.exit).as("prlimit --pid %s --fsize (%s)", s.pid(), r.output).isZero();
    return r.output.trim();
  }

  /** Writes zeros to the file until the file system is full; the bytes written. */
  private static long fill(Path file) throws IOException {
    long written = 0;
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      while (true) {
        chunk.clear();
        try {
          written += out.write(chunk);
        } catch (IOException full) {
          break;
        }
        if (written > 1L << 30) {
          throw new IllegalStateException("wrote 1 GiB to " + file + " without filling the file system");
        }
      }
      // Smaller pieces, down to one block, so nothing is left.
      for (int size = 32 * 1024; size >= 512; size /= 2) {
        while (true) {
          try {
            int n = out.write(ByteBuffer.allocate(size));
            if (n == 0) {
              break;
            }
            written += n;
          } catch (IOException full) {
            break;
          }
        }
      }
    }
    return written;
  }

  private record Result(int exit, String output) {}

  private static Result run(String... cmd) throws Exception {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out: " + out);
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    }
  }
}
