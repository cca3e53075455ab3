package io.arangopipe.bench;

import io.arangopipe.server.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Collections;
import org.sqlite.SQLiteConfig;

/**
 * The storage ceiling for LogRun: the rows one LogRun writes (run, modelparams and devperf vertices; the
 * run_models, run_modelparams, run_devperf, run_datasets and run_featuresets edges), inserted straight
 * into the embedded store's schema with raw JDBC, with the server's durability (WAL, synchronous=FULL, a
 * savepoint per LogRun, one durable COMMIT per group) and the group size the load allows: {@code group}
 * LogRuns per commit, as the server's writer would take them from {@code group} waiting clients. No gRPC,
 * no validation, no JSON encoding, one thread.
 */
final class StorageCeiling implements AutoCloseable {
  private static final String VERTEX_COLUMNS = "collection, key, name, project, doc, create_time, update_time, creator";
  private static final String EDGE_COLUMNS = "collection, key, from_id, to_id, doc, create_time, creator";

  private final Connection c;
  private final PreparedStatement vertices;
  private final PreparedStatement edges;
  private long seq;

  /** Creates the server's schema in {@code dir} (by opening and closing the store), then connects raw. */
  StorageCeiling(Path dir) throws SQLException {
    SqliteStore.open(dir, SqliteStore.Options.defaults()).close();
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    cfg.setBusyTimeout(10_000);
    cfg.setGetGeneratedKeys(false);
    c = cfg.createConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
    vertices = c.prepareStatement("INSERT INTO vertices(" + VERTEX_COLUMNS + ") VALUES "
        + String.join(", ", Collections.nCopies(3, "(?, ?, ?, ?, ?, ?, ?, ?)")));
    edges = c.prepareStatement("INSERT INTO edges(" + EDGE_COLUMNS + ") VALUES "
        + String.join(", ", Collections.nCopies(5, "(?, ?, ?, ?, ?, ?, ?)")));
  }

  /** One group: {@code group} LogRuns' rows, each in a savepoint, then one durable COMMIT. */
  void commitGroup(int group, String runPrefix) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      for (int i = 0; i < group; i++) {
        s.execute("SAVEPOINT unit");
        insertLogRun(runPrefix + (seq++));
        s.execute("RELEASE unit");
      }
      s.execute("COMMIT");
    }
  }

  private void insertLogRun(String runKey) throws SQLException {
    long now = Instant.now().toEpochMilli() * 1000;
    String t = Instant.now().toString();
    String params = String.format("%s%04d", ulidish(), seq % 10_000);
    String perf = String.format("%s%04d", ulidish(), (seq + 1) % 10_000);
    int p = 1;
    p = vertex(p, "run", runKey, "{\"git_commit\":\"4f2a9c1\",\"run_id\":\"" + runKey + "\",\"tag\":\"bench-sweep\","
        + "\"start_time\":\"" + t + "\",\"end_time\":\"" + t + "\",\"status\":\"COMPLETED\"}", now);
    p = vertex(p, "modelparams", params, "{\"alpha\":0.001,\"max_iter\":1000,\"l1_ratio\":0.5,\"max_depth\":6,"
        + "\"run_id\":\"" + runKey + "\"}", now);
    vertex(p, "devperf", perf, "{\"rmse\":0.31,\"r2\":0.81,\"mae\":0.22,\"run_id\":\"" + runKey + "\"}", now);
    vertices.executeUpdate();
    String run = "run/" + runKey;
    p = 1;
    p = edge(p, "run_models", "01JMODELKEY000000000000000-" + runKey, "models/01JMODELKEY000000000000000", run, now);
    p = edge(p, "run_modelparams", runKey + "-" + params, run, "modelparams/" + params, now);
    p = edge(p, "run_devperf", runKey + "-" + perf, run, "devperf/" + perf, now);
    p = edge(p, "run_datasets", runKey + "-01JDATASETKEY00000000000000", run, "datasets/01JDATASETKEY00000000000000", now);
    edge(p, "run_featuresets", runKey + "-01JFEATURESETKEY00000000000", run,
        "featuresets/01JFEATURESETKEY00000000000", now);
    edges.executeUpdate();
  }

  private static String ulidish() {
    return Long.toString(System.nanoTime(), 32).toUpperCase();
  }

  private int vertex(int p, String collection, String key, String doc, long now) throws SQLException {
    vertices.setString(p++, collection);
    vertices.setString(p++, key);
    vertices.setNull(p++, java.sql.Types.NULL);
    vertices.setString(p++, "bench");
    vertices.setString(p++, doc);
    vertices.setLong(p++, now);
    vertices.setLong(p++, now);
    vertices.setString(p++, "anonymous");
    return p;
  }

  private int edge(int p, String collection, String key, String from, String to, long now) throws SQLException {
    edges.setString(p++, collection);
    edges.setString(p++, key);
    edges.setString(p++, from);
    edges.setString(p++, to);
    edges.setString(p++, "{}");
    edges.setLong(p++, now);
    edges.setString(p++, "anonymous");
    return p;
  }

  @Override
  public void close() throws SQLException {
    vertices.close();
    edges.close();
    c.close();
  }
}
