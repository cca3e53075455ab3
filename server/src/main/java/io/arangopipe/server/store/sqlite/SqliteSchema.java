package io.arangopipe.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's tables, and the schema version recorded in {@code meta} so that a later release
 * can migrate an existing data folder: each migration step takes version N to N+1 in one transaction.
 *
 * <p>Version 1 created every table. Version 2 orders the edges' pair index by {@code (from_id, collection,
 * to_id)} instead of {@code (collection, from_id, to_id)}: the same rule (one edge of a collection between
 * two vertices), but now also the outbound lookup, so {@code edges_by_from} goes; and the edges a LogRun
 * writes from its run share one index page instead of landing in one place per edge type. An edge is one
 * row and three index entries instead of four, and a LogRun dirties ~25% fewer pages (each one a WAL frame
 * to write and fsync: docs/benchmarks.md, run 6).
 */
final class SqliteSchema {

  private static final Logger log = LoggerFactory.getLogger(SqliteSchema.class);

  /** The version this build writes and reads. */
  static final int VERSION = 2;

  /**
   * One migration step's statements; {@code indexesEdges} when it builds an index over every edge, which
   * on a large store takes a while and is logged with the number of edges.
   */
  private record Step(boolean indexesEdges, List<String> statements) {}

  /** Migration steps: element i takes the schema from version i to i+1. Never change a released step. */
  private static final List<Step> STEPS = List.of(
      new Step(false, List.of(
          """
          CREATE TABLE meta(
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
          ) STRICT""",
          """
          CREATE TABLE collections(
            name        TEXT PRIMARY KEY,
            kind        TEXT NOT NULL CHECK (kind IN ('VERTEX', 'EDGE')),
            builtin     INTEGER NOT NULL,
            flow        TEXT NOT NULL CHECK (flow IN ('FORWARD', 'REVERSE')),
            from_types  TEXT NOT NULL,
            to_types    TEXT NOT NULL,
            ordinal     INTEGER NOT NULL
          ) STRICT""",
          """
          CREATE TABLE vertices(
            collection  TEXT NOT NULL,
            key         TEXT NOT NULL,
            name        TEXT,
            project     TEXT NOT NULL,
            doc         TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL,
            creator     TEXT NOT NULL,
            PRIMARY KEY (collection, key)
          ) STRICT""",
          "CREATE UNIQUE INDEX vertices_by_name ON vertices(collection, name, project) WHERE name IS NOT NULL",
          "CREATE INDEX vertices_by_project ON vertices(collection, project, key)",
          "CREATE INDEX runs_by_tag ON vertices(json_extract(doc, '$.tag')) WHERE collection = 'run'",
          "CREATE INDEX runs_by_deployment_tag ON vertices(json_extract(doc, '$.deployment_tag'))"
              + " WHERE collection = 'run'",
          """
          CREATE TABLE edges(
            collection  TEXT NOT NULL,
            key         TEXT NOT NULL,
            from_id     TEXT NOT NULL,
            to_id       TEXT NOT NULL,
            doc         TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            creator     TEXT NOT NULL,
            PRIMARY KEY (collection, key)
          ) STRICT""",
          "CREATE UNIQUE INDEX edges_by_pair ON edges(collection, from_id, to_id)",
          "CREATE INDEX edges_by_from ON edges(from_id, collection)",
          "CREATE INDEX edges_by_to ON edges(to_id, collection)",
          """
          CREATE TABLE history(
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            entity_id   TEXT NOT NULL,
            time        INTEGER NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            changes     TEXT NOT NULL
          ) STRICT""",
          "CREATE INDEX history_by_entity ON history(entity_id, seq)",
          """
          CREATE TABLE requests(
            request_id  TEXT PRIMARY KEY,
            operation   TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            result      TEXT NOT NULL,
            create_time INTEGER NOT NULL
          ) STRICT""")),
      // 1 -> 2: the pair index leads with from_id, and serves the outbound lookups of edges_by_from.
      new Step(true, List.of(
          "DROP INDEX edges_by_from",
          "DROP INDEX edges_by_pair",
          "CREATE UNIQUE INDEX edges_by_pair ON edges(from_id, collection, to_id)")));

  private SqliteSchema() {}

  /** Brings the database to {@link #VERSION}; the connection must be the writer, in autocommit mode. */
  static void migrate(Connection c) throws SQLException {
    migrate(c, VERSION);
  }

  /**
   * Brings the database to {@code target} (at most {@link #VERSION}), one transaction per step. Tests use
   * a lower target to build a data folder as an older release left it.
   */
  static void migrate(Connection c, int target) throws SQLException {
    if (target > VERSION) {
      throw new IllegalArgumentException("schema version " + target + " is not known to this build");
    }
    int current = currentVersion(c);
    if (current > VERSION) {
      throw new IllegalStateException("the data folder was written by a newer Arangopipe (schema version "
          + current + ", this build knows " + VERSION + "); run a newer server, or point --data-dir elsewhere");
    }
    for (int v = current; v < target; v++) {
      Step step = STEPS.get(v);
      try (Statement s = c.createStatement()) {
        s.execute("BEGIN IMMEDIATE");
        try {
          long start = System.nanoTime();
          long edges = step.indexesEdges() ? countEdges(c) : 0;
          if (edges > 0) {
            log.info("upgrading the embedded store from schema version {} to {}: indexing {} edges", v, v + 1,
                edges);
          } else {
            log.debug("creating the embedded store's schema version {}", v + 1);
          }
          for (String ddl : step.statements()) {
            s.execute(ddl);
          }
          try (PreparedStatement p = c.prepareStatement(
              "INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                  + " ON CONFLICT(key) DO UPDATE SET value = excluded.value")) {
            p.setString(1, Integer.toString(v + 1));
            p.executeUpdate();
          }
          s.execute("COMMIT");
          if (edges > 0) {
            log.info("upgraded the embedded store from schema version {} to {} in {} ms", v, v + 1,
                (System.nanoTime() - start) / 1_000_000);
          }
        } catch (SQLException | RuntimeException e) {
          s.execute("ROLLBACK");
          throw e;
        }
      }
    }
  }

  private static long countEdges(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM edges")) {
      r.next();
      return r.getLong(1);
    }
  }

  static int currentVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")) {
      r.next();
      if (r.getInt(1) == 0) {
        return 0;
      }
    }
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key = 'schema_version'")) {
      return r.next() ? Integer.parseInt(r.getString(1)) : 0;
    }
  }
}
