package io.arangopipe.server.store.sqlite;

import io.arangopipe.server.store.Cancellation;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.ResourceExhaustedException;
import io.arangopipe.server.store.StoreException;
import io.arangopipe.server.store.UnavailableException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.ProgressHandler;
import org.sqlite.SQLiteConfig;

/**
 * The embedded store: one SQLite file in WAL mode.
 *
 * <p>Writes go through one writer thread that owns the only writable connection. It takes every unit
 * of work that is waiting (up to {@code maxBatch}), runs them in one {@code BEGIN IMMEDIATE} transaction,
 * and commits them together. Units rarely fail, so a batch first runs without a savepoint per unit (a
 * savepoint makes SQLite copy every page the unit changes); if a unit throws, the transaction is rolled
 * back and the batch runs again with a savepoint per unit, so that only the failed unit's writes are
 * undone. If SQLite itself fails mid-batch, the batch is rolled back and each unit is retried alone, so
 * one bad write cannot take its neighbours down with it. Either way a unit may run more than once; it
 * keeps no state between attempts.
 *
 * <p>Durability is pipelined: the writer's {@code COMMIT} writes the batch's pages to the WAL
 * (synchronous=NORMAL: no fsync), hands the batch to the syncer thread and goes on with the next batch
 * while the syncer runs {@code fdatasync} on the WAL file; the batch's callers are answered only after that
 * fsync returns, and one fsync covers every batch committed before it. So an acknowledged write is on disk
 * (it survives a power cut, not just a {@code kill -9}), and the writer never waits for the disk. SQLite
 * keeps the WAL itself consistent in NORMAL mode (it syncs the WAL before every checkpoint and the WAL's
 * header when it starts over). If an fsync fails, the kernel may have dropped the pages it could not write
 * and a later fsync would not say so; the store then answers the waiting writes UNAVAILABLE (their outcome
 * is unknown), refuses every later write and reports itself unavailable ({@link #probe}) until the server
 * is restarted and SQLite recovers from what is really on disk.
 *
 * <p>Reads use a pool of read-only connections, each in a deferred transaction, so they see one
 * snapshot and never block the writer.
 *
 * <p>Checkpoints (copying committed WAL pages back into the database file) run on their own thread and
 * connection, {@code PASSIVE}, so they never block the writer: the writer does not stop to copy pages.
 * SQLite starts the WAL over from its beginning when a write transaction begins and every frame has been
 * copied; with a busy writer the checkpointer is always a few frames behind, so once the WAL is longer than
 * {@link Options#walRestartPages} the writer's own automatic checkpoint copies the few frames the
 * checkpointer has not copied yet, and its next transaction starts the WAL over. The WAL file stays near
 * that size.
 */
public final class SqliteStore implements GraphStore {

  private static final Logger log = LoggerFactory.getLogger(SqliteStore.class);

  /**
   * Tunables.
   *
   * @param walRestartPages WAL length (in 4 KiB pages) at which the writer finishes the checkpoint and the
   *     WAL starts over: 16,384 pages, 64 MiB, by default
   */
  public record Options(int readers, int maxBatch, int queueCapacity, Cancellation cancellation,
      MeterRegistry metrics, int walRestartPages, WalSync walSync) {
    public static Options defaults() {
      return new Options(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), 256, 10_000,
          Cancellation.NEVER, new CompositeMeterRegistry(), 16_384, WalSync.FDATASYNC);
    }

    public Options withCancellation(Cancellation c) {
      return new Options(readers, maxBatch, queueCapacity, c, metrics, walRestartPages, walSync);
    }

    public Options withMaxBatch(int n) {
      return new Options(readers, n, queueCapacity, cancellation, metrics, walRestartPages, walSync);
    }

    public Options withMetrics(MeterRegistry m) {
      return new Options(readers, maxBatch, queueCapacity, cancellation, m, walRestartPages, walSync);
    }

    public Options withWalRestartPages(int pages) {
      return new Options(readers, maxBatch, queueCapacity, cancellation, metrics, pages, walSync);
    }

    /** How the syncer makes the WAL durable; tests wrap {@link WalSync#FDATASYNC} to delay or fail it. */
    public Options withWalSync(WalSync sync) {
      return new Options(readers, maxBatch, queueCapacity, cancellation, metrics, walRestartPages, sync);
    }
  }

  /** Makes everything written to the WAL file so far durable. */
  @FunctionalInterface
  public interface WalSync {
    /** {@code fdatasync(2)}: the data and the file size, not the timestamps. */
    WalSync FDATASYNC = wal -> wal.force(false);

    void sync(FileChannel wal) throws IOException;
  }

  /** How many SQLite virtual-machine steps run between two cancellation checks. */
  private static final int CANCEL_CHECK_STEPS = 10_000;

  /**
   * The writer's page cache (KiB). Every LogRun touches a dozen index pages; with SQLite's default 2 MiB
   * the writer read most of them back from the file each time (one {@code pread} per page).
   */
  private static final int WRITER_CACHE_KIB = 64 * 1024;

  /** How often the checkpointer copies what the writer committed since its last run. */
  private static final long CHECKPOINT_INTERVAL_MS = 50;

  private final Path file;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Connection writer;
  private final BlockingQueue<Connection> readers;
  private final List<Connection> allReaders = new ArrayList<>();
  /** Each connection's prepared statements; a connection and its cache are used by one thread at a time. */
  private final java.util.Map<Connection, StatementCache> readerStatements = new java.util.IdentityHashMap<>();
  private StatementCache writerStatements;
  /** The writer's collection definitions; cleared on every rollback. */
  private final CollectionCache writerCollections = new CollectionCache();
  private final BlockingQueue<Task<?>> queue;
  private final Options options;
  private final Thread writerThread;
  private final Connection checkpointer;
  private final Thread checkpointerThread;
  /** The WAL file, opened for {@code fdatasync} only: SQLite does all the writing. */
  private final FileChannel wal;
  /** Batches committed to the WAL, waiting for the fsync that makes them durable. */
  private final BlockingQueue<List<Task<?>>> committed = new ArrayBlockingQueue<>(1024);
  private final Thread syncerThread;
  /** Set once, when an fsync of the WAL failed; from then on no write is taken. */
  private volatile String syncFailure;
  private volatile boolean writerDone;
  private final Timer syncs;
  private final Counter checkpointFailures;
  private final DistributionSummary batchSizes;
  private final Timer commits;
  private final Counter failedBatches;
  /**
   * Batches the writer still runs with a savepoint per unit since a unit last failed (writer thread only).
   * Otherwise a batch runs without them: a savepoint copies every page a unit changes into SQLite's
   * sub-journal (malloc, copy, free: about 30 pages for a LogRun), and units rarely fail.
   */
  private int guardedBatches;
  private static final int GUARDED_AFTER_FAILURE = 16;
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile boolean closing;

  private SqliteStore(Path dataDir, Options options) throws SQLException, IOException {
    this.options = options;
    Files.createDirectories(dataDir);
    this.file = dataDir.resolve("arangopipe.db").toAbsolutePath().normalize();
    this.lockChannel = FileChannel.open(dataDir.resolve("arangopipe.lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = lockChannel.tryLock();
    } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
      // Overlapping: this JVM already holds it.
      l = null;
    }
    if (l == null) {
      lockChannel.close();
      throw new DataFolderInUseException(dataDir.toAbsolutePath());
    }
    this.lock = l;
    // Until the store is open, what was opened is closed again on failure (and the folder unlocked), so
    // that a failed open (a migration that failed, say) can be retried in the same process.
    List<Connection> opened = new ArrayList<>();
    try {
      this.writer = connect(false);
      opened.add(writer);
      pragmas(writer, "PRAGMA cache_size = -" + WRITER_CACHE_KIB,
          "PRAGMA wal_autocheckpoint = " + Math.max(1, options.walRestartPages()));
      SqliteSchema.migrate(writer);
      this.readers = new ArrayBlockingQueue<>(options.readers());
      for (int i = 0; i < options.readers(); i++) {
        Connection r = connect(true);
        opened.add(r);
        allReaders.add(r);
        readers.add(r);
        readerStatements.put(r, new StatementCache(r));
      }
      this.checkpointer = connect(false);
      opened.add(checkpointer);
      // The migration's transaction made SQLite create the WAL file; SQLite never deletes it while a
      // connection is open, and truncating or restarting it keeps the same file.
      this.wal = FileChannel.open(Path.of(file + "-wal"), StandardOpenOption.WRITE);
    } catch (SQLException | IOException | RuntimeException e) {
      for (Connection c : opened) {
        closeQuietly(c);
      }
      lock.release();
      lockChannel.close();
      throw e;
    }
    this.writerStatements = new StatementCache(writer);
    this.queue = new LinkedBlockingQueue<>(options.queueCapacity());
    MeterRegistry m = options.metrics();
    this.batchSizes = DistributionSummary.builder("arangopipe.store.write.batch.size")
        .description("writes committed together by one transaction (group commit)").register(m);
    this.commits = Timer.builder("arangopipe.store.commit")
        .description("time from BEGIN to COMMIT of one write batch (written to the WAL, not yet fsynced)")
        .publishPercentileHistogram().register(m);
    this.syncs = Timer.builder("arangopipe.store.wal.sync")
        .description("fdatasync of the WAL that makes committed write batches durable")
        .publishPercentileHistogram().register(m);
    this.failedBatches = Counter.builder("arangopipe.store.write.failures")
        .description("write batches SQLite could not commit").register(m);
    Gauge.builder("arangopipe.store.write.queue", queue, BlockingQueue::size)
        .description("writes waiting for the writer thread").register(m);
    this.checkpointFailures = Counter.builder("arangopipe.store.checkpoint.failures")
        .description("background WAL checkpoints that failed (retried at the next interval)").register(m);
    this.writerThread = new Thread(this::writerLoop, "arangopipe-sqlite-writer");
    writerThread.setDaemon(false);
    writerThread.start();
    this.syncerThread = new Thread(this::syncLoop, "arangopipe-wal-syncer");
    syncerThread.setDaemon(false);
    syncerThread.start();
    this.checkpointerThread = new Thread(this::checkpointLoop, "arangopipe-checkpointer");
    checkpointerThread.setDaemon(true);
    checkpointerThread.start();
  }

  /**
   * Opens (creating if needed) the store in {@code dataDir}.
   *
   * @throws DataFolderInUseException another process holds the folder
   * @throws IllegalStateException it was written by a newer release
   * @throws UnavailableException the database cannot be opened
   */
  public static SqliteStore open(Path dataDir, Options options) {
    try {
      return new SqliteStore(dataDir, options);
    } catch (SQLException | IOException e) {
      throw new UnavailableException("cannot open the embedded store in " + dataDir.toAbsolutePath() + ": "
          + e.getMessage(), e);
    }
  }

  private Connection connect(boolean readOnly) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    // NORMAL: a COMMIT writes the WAL without an fsync; the syncer thread makes it durable before any
    // caller is answered (see the class comment). Checkpoints still sync the WAL and the database file.
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    cfg.setBusyTimeout(10_000);
    cfg.setReadOnly(readOnly);
    // Nothing reads generated keys; left on, sqlite-jdbc runs a query after every INSERT to fetch them.
    cfg.setGetGeneratedKeys(false);
    // Savepoint and statement journals stay in memory instead of spilling to temporary files.
    cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
    return cfg.createConnection("jdbc:sqlite:" + file);
  }

  /** Runs PRAGMA statements (constants of this class) on a connection just opened. */
  private static void pragmas(Connection c, String... pragmas) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String p : pragmas) {
        s.execute(p);
      }
    }
  }

  @Override
  public String describe() {
    return "sqlite:" + file;
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  // ---- reads -------------------------------------------------------------------------------------

  @Override
  public <T> T read(ReadWork<T> work) {
    if (closing) {
      throw new UnavailableException("the store is shutting down");
    }
    Connection c;
    try {
      c = readers.poll(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while waiting for a read connection");
    }
    if (c == null) {
      throw new UnavailableException("all " + options.readers() + " read connections stayed busy for 30 s");
    }
    BooleanSupplier cancelled = options.cancellation().current();
    try (Statement s = c.createStatement()) {
      ProgressHandler.setHandler(c, CANCEL_CHECK_STEPS, new ProgressHandler() {
        @Override
        protected int progress() {
          return cancelled.getAsBoolean() ? 1 : 0;
        }
      });
      s.execute("BEGIN");
      try {
        return work.run(new SqliteTx(readerStatements.get(c), false));
      } finally {
        s.execute("ROLLBACK");
        ProgressHandler.clearHandler(c);
      }
    } catch (SQLException e) {
      throw cancelled.getAsBoolean() ? new UnavailableException("the call was cancelled; the query stopped", e)
          : storeFailure(e);
    } catch (SqliteFailure e) {
      throw cancelled.getAsBoolean()
          ? new UnavailableException("the call was cancelled; the query stopped", e.sqlCause())
          : storeFailure(e.sqlCause());
    } finally {
      readers.add(c);
    }
  }

  // ---- writes ------------------------------------------------------------------------------------

  private static final class Task<T> {
    final WriteWork<T> work;
    final BooleanSupplier cancelled;
    final CompletableFuture<T> done = new CompletableFuture<>();
    T result;
    RuntimeException error;

    Task(WriteWork<T> work, BooleanSupplier cancelled) {
      this.work = work;
      this.cancelled = cancelled;
    }

    /** Forgets the outcome of an attempt that was undone, before the unit runs again. */
    void reset() {
      result = null;
      error = null;
    }

    void complete() {
      if (error != null) {
        done.completeExceptionally(error);
      } else {
        done.complete(result);
      }
    }
  }

  @Override
  public <T> T write(WriteWork<T> work) {
    CompletableFuture<T> done = writeAsync(work);
    try {
      return done.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        // Rethrow with the caller's stack for debugging, keeping the type the api layer maps.
        throw r;
      }
      throw new IllegalStateException(cause);
    }
  }

  @Override
  public <T> CompletableFuture<T> writeAsync(WriteWork<T> work) {
    Task<T> task = new Task<>(work, options.cancellation().current());
    lifecycle.readLock().lock();
    try {
      if (closing) {
        return CompletableFuture.failedFuture(new UnavailableException("the store is shutting down"));
      }
      if (syncFailure != null) {
        return CompletableFuture.failedFuture(writesRefused());
      }
      if (!queue.offer(task)) {
        return CompletableFuture.failedFuture(new UnavailableException("the write queue is full ("
            + options.queueCapacity() + " writes waiting); retry with backoff"));
      }
    } finally {
      lifecycle.readLock().unlock();
    }
    return task.done;
  }

  /**
   * The next item, or null after 50 ms or an interrupt: the writer's and the syncer's loops then check
   * whether to stop (they stop only once everything queued is done, so an interrupt does not end them).
   */
  private static <T> T pollBriefly(BlockingQueue<T> q) {
    try {
      return q.poll(50, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      return null;
    }
  }

  private void writerLoop() {
    List<Task<?>> batch = new ArrayList<>();
    while (true) {
      Task<?> first = pollBriefly(queue);
      if (first == null) {
        if (closing && queue.isEmpty()) {
          failLeftovers();
          return;
        }
        continue;
      }
      batch.clear();
      batch.add(first);
      queue.drainTo(batch, options.maxBatch() - 1);
      runBatch(batch);
    }
  }

  private void runBatch(List<Task<?>> batch) {
    if (syncFailure != null) {
      for (Task<?> t : batch) {
        t.error = writesRefused();
        t.complete();
      }
      return;
    }
    boolean guarded = batch.size() > 1 && guardedBatches > 0;
    if (guarded) {
      guardedBatches--;
    }
    long start = System.nanoTime();
    try (Statement s = writer.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      for (Task<?> t : batch) {
        if (!runUnit(s, t, guarded) && !guarded) {
          // No savepoint can undo just this unit's part: undo the transaction, and run the batch again
          // with a savepoint per unit (a unit keeps no state between attempts; see GraphStore.WriteWork).
          rollbackQuietly();
          if (batch.size() == 1) {
            handOff(batch);
            return;
          }
          guardedBatches = GUARDED_AFTER_FAILURE;
          batch.forEach(Task::reset);
          runBatch(batch);
          return;
        }
      }
      s.execute("COMMIT");
      commits.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      batchSizes.record(batch.size());
    } catch (SQLException | SqliteFailure e) {
      failedBatches.increment();
      SQLException cause = e instanceof SqliteFailure f ? f.sqlCause() : (SQLException) e;
      rollbackQuietly();
      if (batch.size() > 1) {
        log.warn("a write batch of {} failed ({}); retrying each write alone", batch.size(), cause.getMessage());
        for (Task<?> t : batch) {
          t.reset();
          runBatch(List.of(t));
        }
        return;
      }
      Task<?> only = batch.get(0);
      only.error = storeFailure(cause);
      only.result = null;
      log.error("a write failed and was rolled back: {}", cause.getMessage());
      // Nothing was written: the answer does not wait for an fsync.
      only.complete();
      return;
    }
    // Committed to the WAL: the syncer answers once an fsync has made it durable. Units that failed in
    // their savepoint wait too, so that no answer depends on a write that is not yet on disk.
    handOff(batch);
  }

  private void handOff(List<Task<?>> batch) {
    try {
      committed.put(new ArrayList<>(batch));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the writer thread was interrupted", e);
    }
  }

  /**
   * The syncer: takes every batch committed since its last fsync, makes them durable with one
   * {@code fdatasync} of the WAL, and only then answers their callers. Runs until the writer has stopped
   * and every committed batch is answered.
   */
  private void syncLoop() {
    List<List<Task<?>>> groups = new ArrayList<>();
    while (true) {
      List<Task<?>> first = pollBriefly(committed);
      if (first == null) {
        if (writerDone && committed.isEmpty()) {
          return;
        }
        continue;
      }
      groups.clear();
      groups.add(first);
      committed.drainTo(groups);
      StoreException failed = null;
      if (syncFailure == null) {
        long start = System.nanoTime();
        try {
          options.walSync().sync(wal);
          syncs.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        } catch (IOException | RuntimeException e) {
          String msg = e.getMessage() == null ? e.toString() : e.getMessage();
          syncFailure = msg;
          log.error("an fsync of the write-ahead log {}-wal failed ({}): writes are refused from now on."
              + " Check the disk (the kernel log), then restart the server; it recovers what is on disk", file,
              msg, e);
          failed = new UnavailableException("the write reached the write-ahead log but the fsync that makes it"
              + " durable failed (" + msg + "), so whether it survives is unknown. The server takes no more writes"
              + " until it is restarted: check the disk holding " + file.getParent() + " (I/O errors in the"
              + " kernel log), restart the server, then retry the call with the same request_id", e);
        }
      } else {
        failed = writesRefused();
      }
      for (List<Task<?>> group : groups) {
        for (Task<?> t : group) {
          if (failed != null) {
            t.error = failed;
            t.result = null;
          }
          t.complete();
        }
      }
    }
  }

  private UnavailableException writesRefused() {
    return new UnavailableException("the embedded store takes no writes since an fsync of its write-ahead log"
        + " failed (" + syncFailure + "); nothing was written. Check the disk holding " + file.getParent()
        + " (I/O errors in the kernel log) and restart the server, then retry with the same request_id");
  }

  /** False once an fsync of the WAL has failed: the store then takes no writes until a restart. */
  @Override
  public boolean probe() {
    return syncFailure == null;
  }

  /**
   * Runs one unit of the batch, with a savepoint of its own when {@code guarded}; false if it failed (its
   * error is in {@code t.error}). A guarded unit's failure is undone by its savepoint; an unguarded one
   * leaves whatever part of it ran in the transaction, for the caller to undo.
   */
  private <T> boolean runUnit(Statement s, Task<T> t, boolean guarded) throws SQLException {
    if (t.cancelled.getAsBoolean()) {
      t.error = new UnavailableException("the call was cancelled before it was written; nothing was written");
      return true;
    }
    if (guarded) {
      writerStatements.get("SAVEPOINT unit").execute();
    }
    try {
      t.result = t.work.run(new SqliteTx(writerStatements, true, writerCollections));
      if (guarded) {
        writerStatements.get("RELEASE unit").execute();
      }
      return true;
    } catch (SqliteFailure e) {
      throw e;
    } catch (RuntimeException e) {
      if (!(e instanceof StoreException)) {
        log.error("bug: a write failed unexpectedly and was rolled back", e);
      }
      t.error = e;
      if (guarded) {
        writerCollections.clear();
        s.execute("ROLLBACK TO unit");
        s.execute("RELEASE unit");
      }
      return false;
    }
  }

  /**
   * The checkpointer: every {@link #CHECKPOINT_INTERVAL_MS} a {@code PASSIVE} checkpoint copies what the
   * writer committed since. Failures (a full disk, an I/O error) are counted, logged at most once a minute,
   * and retried at the next interval: the committed data is safe in the WAL meanwhile.
   */
  private void checkpointLoop() {
    long lastLogged = System.nanoTime() - TimeUnit.MINUTES.toNanos(2);
    while (!closing) {
      try {
        Thread.sleep(CHECKPOINT_INTERVAL_MS);
      } catch (InterruptedException e) {
        return;
      }
      try (Statement s = checkpointer.createStatement()) {
        s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)").close();
      } catch (SQLException e) {
        checkpointFailures.increment();
        long now = System.nanoTime();
        if (now - lastLogged > TimeUnit.MINUTES.toNanos(1)) {
          lastLogged = now;
          log.warn("a background checkpoint of {} failed ({}); writes are safe in the WAL, retrying", file,
              e.getMessage());
        }
      }
    }
  }

  /** Writes that raced with close() and arrived after the last batch: fail them, never leave them hanging. */
  private void failLeftovers() {
    Task<?> t;
    while ((t = queue.poll()) != null) {
      t.error = new UnavailableException("the store is shutting down; nothing was written");
      t.complete();
    }
  }

  private void rollbackQuietly() {
    writerCollections.clear();
    try (Statement s = writer.createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException ignored) {
      // Nothing was active, or SQLite already rolled back.
    }
  }

  /**
   * What an SQLite failure means for the caller. A full disk (SQLITE_FULL) is RESOURCE_EXHAUSTED: retrying
   * does not help until someone frees space, and then the same server takes writes again. Anything else
   * (an I/O error such as EIO or EFBIG, a locked or unreadable file) is UNAVAILABLE: retry with backoff.
   * Either way the transaction was rolled back, so nothing was written.
   */
  private StoreException storeFailure(SQLException e) {
    String msg = e.getMessage() == null ? e.toString() : e.getMessage();
    Path folder = file.getParent();
    int primary = e instanceof org.sqlite.SQLiteException s ? s.getResultCode().code & 0xff : e.getErrorCode() & 0xff;
    if (primary == SQLITE_FULL) {
      return new ResourceExhaustedException("STORE_FULL", "the disk holding the data folder " + folder
          + " is full (" + msg + "); nothing was written. Free space there, then retry the call (with the same"
          + " request_id); the server keeps serving reads and takes writes again without a restart", e);
    }
    return new UnavailableException("the embedded store could not complete the call (" + msg + "); nothing was"
        + " written. Retry with backoff (with the same request_id); if it persists, check the disk holding "
        + folder + " (space, file-size limits, I/O errors in the kernel log) and the server log", e);
  }

  /** SQLite's primary result code for "database or disk is full". */
  private static final int SQLITE_FULL = 13;

  // ---- lifecycle ---------------------------------------------------------------------------------

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closing) {
        return;
      }
      closing = true;
    } finally {
      lifecycle.writeLock().unlock();
    }
    try {
      writerThread.join();
      writerDone = true;
      syncerThread.join();
      checkpointerThread.interrupt();
      checkpointerThread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      wal.close();
    } catch (IOException e) {
      log.warn("closing the WAL file: {}", e.getMessage());
    }
    closeQuietly(checkpointer);
    for (Connection c : allReaders) {
      readerStatements.get(c).close();
      closeQuietly(c);
    }
    writerStatements.close();
    closeQuietly(writer);
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("could not release the data folder lock: {}", e.getMessage());
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      log.warn("closing a connection: {}", e.getMessage());
    }
  }
}
