package io.arangopipe.server.faults;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sqlite.SQLiteConfig;

/**
 * The server's database file, opened read-only with sqlite-jdbc, to check it from outside the server: after
 * a {@code kill -9} (SQLite replays the WAL for the reader; nothing is written to the database file) or
 * while the server runs (a WAL reader sees one committed snapshot).
 */
final class StoreFile implements AutoCloseable {
  private final Connection c;

  private StoreFile(Connection c) {
    this.c = c;
  }

  static StoreFile openReadOnly(Path dataDir) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setReadOnly(true);
    cfg.setBusyTimeout(30_000);
    return new StoreFile(cfg.createConnection("jdbc:sqlite:" + dataDir.resolve("arangopipe.db").toAbsolutePath()));
  }

  /** {@code PRAGMA integrity_check}: "ok", or the problems it lists. */
  String integrityCheck() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
      while (r.next()) {
        rows.add(r.getString(1));
      }
    }
    return String.join("; ", rows);
  }

  /** Row counts of every table that a write adds to: what "a retry writes nothing" compares. */
  Map<String, Long> tableCounts() throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    try (Statement s = c.createStatement()) {
      s.execute("BEGIN"); // one snapshot for all four counts
      try {
        for (String table : List.of("vertices", "edges", "history", "requests")) {
          try (ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
            r.next();
            out.put(table, r.getLong(1));
          }
        }
      } finally {
        s.execute("ROLLBACK");
      }
    }
    return out;
  }

  /** What the store holds of one logged run. */
  record RunRow(String key, List<String> modelParams, List<String> devPerf, int modelLinks, int datasetLinks,
      int featuresetLinks, boolean paramsExist, boolean perfExist, boolean hasRequest) {
    /** The run, one model-params and one dev-perf document that exist, and one edge of each of the five kinds. */
    boolean complete() {
      return modelParams.size() == 1 && devPerf.size() == 1 && paramsExist && perfExist && modelLinks == 1
          && datasetLinks == 1 && featuresetLinks == 1 && hasRequest;
    }
  }

  /**
   * Every run whose key starts with the prefix, with its links, in one snapshot; {@code requestPrefix} +
   * the run's key is the request id it was logged with.
   */
  Map<String, RunRow> runs(String keyPrefix, String requestPrefix) throws SQLException {
    Map<String, RunRow> out = new HashMap<>();
    String sql = """
        SELECT v.key,
          (SELECT group_concat(e.to_id) FROM edges e
            WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_modelparams'),
          (SELECT group_concat(e.to_id) FROM edges e
            WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_devperf'),
          (SELECT count(*) FROM edges e WHERE e.to_id = 'run/' || v.key AND e.collection = 'run_models'),
          (SELECT count(*) FROM edges e WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_datasets'),
          (SELECT count(*) FROM edges e WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_featuresets'),
          (SELECT count(*) FROM edges e JOIN vertices p
              ON p.collection = 'modelparams' AND p.key = substr(e.to_id, length('modelparams/') + 1)
                 AND json_extract(p.doc, '$.run_id') = v.key
            WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_modelparams'),
          (SELECT count(*) FROM edges e JOIN vertices d
              ON d.collection = 'devperf' AND d.key = substr(e.to_id, length('devperf/') + 1)
                 AND json_extract(d.doc, '$.run_id') = v.key
            WHERE e.from_id = 'run/' || v.key AND e.collection = 'run_devperf'),
          (SELECT count(*) FROM requests q WHERE q.request_id = ?2 || v.key AND q.result = 'run/' || v.key)
        FROM vertices v
        WHERE v.collection = 'run' AND substr(v.key, 1, length(?1)) = ?1""";
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, keyPrefix);
      p.setString(2, requestPrefix);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          String key = r.getString(1);
          out.put(key, new RunRow(key, split(r.getString(2)), split(r.getString(3)), r.getInt(4), r.getInt(5),
              r.getInt(6), r.getInt(7) == 1, r.getInt(8) == 1, r.getInt(9) == 1));
        }
      }
    }
    return out;
  }

  /**
   * Pieces that belong to no complete write: model params and dev performance without their run's edge, and
   * edges whose end does not exist. Each kind with its count.
   */
  Map<String, Long> orphans() throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("modelparams without a run", count("""
        SELECT count(*) FROM vertices v WHERE v.collection = 'modelparams' AND NOT EXISTS
          (SELECT 1 FROM edges e WHERE e.to_id = 'modelparams/' || v.key AND e.collection = 'run_modelparams')"""));
    out.put("devperf without a run", count("""
        SELECT count(*) FROM vertices v WHERE v.collection = 'devperf' AND NOT EXISTS
          (SELECT 1 FROM edges e WHERE e.to_id = 'devperf/' || v.key AND e.collection = 'run_devperf')"""));
    out.put("edges with a missing end", count("""
        SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM vertices v
            WHERE v.collection = substr(e.from_id, 1, instr(e.from_id, '/') - 1)
              AND v.key = substr(e.from_id, instr(e.from_id, '/') + 1))
          OR NOT EXISTS (SELECT 1 FROM vertices v
            WHERE v.collection = substr(e.to_id, 1, instr(e.to_id, '/') - 1)
              AND v.key = substr(e.to_id, instr(e.to_id, '/') + 1))"""));
    out.put("LogRun request ids without their run", count("""
        SELECT count(*) FROM requests q WHERE q.operation = 'LogRun' AND NOT EXISTS
          (SELECT 1 FROM vertices v WHERE v.collection = 'run' AND v.key = substr(q.result, length('run/') + 1))"""));
    return out;
  }

  private long count(String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static List<String> split(String concatenated) {
    return concatenated == null ? List.of() : List.of(concatenated.split(","));
  }

  /** Keys of the runs in the map that are not in the set. */
  static List<String> notIn(Map<String, RunRow> runs, Set<String> keys) {
    return runs.keySet().stream().filter(k -> !keys.contains(k)).sorted().toList();
  }

  @Override
  public void close() throws SQLException {
    c.close();
  }
}
