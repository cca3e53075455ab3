package io.arangopipe.bench;

import io.arangopipe.server.store.sqlite.SqliteStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.sqlite.SQLiteConfig;

/**
 * The storage ceiling for LogRun: the rows one LogRun writes (run, modelparams and devperf vertices; the
 * run_models, run_modelparams, run_devperf, run_datasets and run_featuresets edges), inserted straight
 * into the embedded store's schema with raw JDBC, with the server's durability and write path: WAL,
 * single-row INSERTs, one COMMIT per group ({@code synchronous=NORMAL}), and a second thread that makes
 * each group durable with an {@code fdatasync} of the WAL (one fsync for every group committed since the
 * last) while the next group is written. A group counts as done once its fsync returns. {@code group}
 * LogRuns per commit, as the server's writer would take them from {@code group} waiting clients. No gRPC,
 * no validation, no JSON encoding.
 */
final class StorageCeiling implements AutoCloseable {
  private static final String VERTEX_COLUMNS = "collection, key, name, project, doc, create_time, update_time, creator";
  private static final String EDGE_COLUMNS = "collection, key, from_id, to_id, doc, create_time, creator";

  private final Connection c;
  private final PreparedStatement vertex;
  private final PreparedStatement edge;
  private final FileChannel wal;
  private final BlockingQueue<CompletableFuture<Long>> committed = new LinkedBlockingQueue<>();
  private final Thread syncer;
  private volatile boolean closing;
  private long seq;

  /** Creates the server's schema in {@code dir} (by opening and closing the store), then connects raw. */
  StorageCeiling(Path dir) throws SQLException, IOException {
    SqliteStore.open(dir, SqliteStore.Options.defaults()).close();
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    cfg.setBusyTimeout(10_000);
    cfg.setGetGeneratedKeys(false);
    cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
    c = cfg.createConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA cache_size = -65536"); // the server writer's 64 MiB
      s.execute("SELECT count(*) FROM meta"); // opens the WAL file
    }
    vertex = c.prepareStatement("INSERT INTO vertices(" + VERTEX_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    edge = c.prepareStatement("INSERT INTO edges(" + EDGE_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)");
    wal = FileChannel.open(dir.resolve("arangopipe.db-wal"), StandardOpenOption.WRITE);
    syncer = new Thread(this::syncLoop, "storage-ceiling-syncer");
    syncer.setDaemon(true);
    syncer.start();
  }

  /**
   * One group: {@code group} LogRuns' rows, then one COMMIT; returns a future of the {@code nanoTime} at
   * which the group became durable.
   */
  CompletableFuture<Long> commitGroup(int group, String runPrefix) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      for (int i = 0; i < group; i++) {
        insertLogRun(runPrefix + (seq++));
      }
      s.execute("COMMIT");
    }
    CompletableFuture<Long> durable = new CompletableFuture<>();
    committed.add(durable);
    return durable;
  }

  private void syncLoop() {
    List<CompletableFuture<Long>> groups = new ArrayList<>();
    while (!closing || !committed.isEmpty()) {
      try {
        CompletableFuture<Long> first = committed.poll(50, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        groups.clear();
        groups.add(first);
        committed.drainTo(groups);
        wal.force(false);
        long now = System.nanoTime();
        groups.forEach(g -> g.complete(now));
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        groups.forEach(g -> g.completeExceptionally(e));
      }
    }
  }

  private void insertLogRun(String runKey) throws SQLException {
    long now = Instant.now().toEpochMilli() * 1000;
    String t = Instant.now().toString();
    String params = String.format("%s%04d", ulidish(), seq % 10_000);
    String perf = String.format("%s%04d", ulidish(), (seq + 1) % 10_000);
    vertex("run", runKey, "{\"git_commit\":\"4f2a9c1\",\"run_id\":\"" + runKey + "\",\"tag\":\"bench-sweep\","
        + "\"start_time\":\"" + t + "\",\"end_time\":\"" + t + "\",\"status\":\"COMPLETED\"}", now);
    vertex("modelparams", params, "{\"alpha\":0.001,\"max_iter\":1000,\"l1_ratio\":0.5,\"max_depth\":6,"
        + "\"run_id\":\"" + runKey + "\"}", now);
    vertex("devperf", perf, "{\"rmse\":0.31,\"r2\":0.81,\"mae\":0.22,\"run_id\":\"" + runKey + "\"}", now);
    String run = "run/" + runKey;
    edge("run_models", "01JMODELKEY000000000000000-" + runKey, "models/01JMODELKEY000000000000000", run, now);
    edge("run_modelparams", runKey + "-" + params, run, "modelparams/" + params, now);
    edge("run_devperf", runKey + "-" + perf, run, "devperf/" + perf, now);
    edge("run_datasets", runKey + "-01JDATASETKEY00000000000000", run, "datasets/01JDATASETKEY00000000000000", now);
    edge("run_featuresets", runKey + "-01JFEATURESETKEY00000000000", run,
        "featuresets/01JFEATURESETKEY00000000000", now);
  }

  private static String ulidish() {
    return Long.toString(System.nanoTime(), 32).toUpperCase();
  }

  private void vertex(String collection, String key, String doc, long now) throws SQLException {
    int p = 1;
    vertex.setString(p++, collection);
    vertex.setString(p++, key);
    vertex.setNull(p++, java.sql.Types.NULL);
    vertex.setString(p++, "bench");
    vertex.setString(p++, doc);
    vertex.setLong(p++, now);
    vertex.setLong(p++, now);
    vertex.setString(p, "anonymous");
    vertex.executeUpdate();
  }

  private void edge(String collection, String key, String from, String to, long now) throws SQLException {
    int p = 1;
    edge.setString(p++, collection);
    edge.setString(p++, key);
    edge.setString(p++, from);
    edge.setString(p++, to);
    edge.setString(p++, "{}");
    edge.setLong(p++, now);
    edge.setString(p, "anonymous");
    edge.executeUpdate();
  }

  @Override
  public void close() throws SQLException {
    closing = true;
    try {
      syncer.join();
      wal.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      throw new SQLException(e);
    }
    vertex.close();
    edge.close();
    c.close();
  }
}
