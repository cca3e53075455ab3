package io.arangopipe.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The embedded store's tables, and the schema version recorded in {@code meta} so that a later release
 * can migrate an existing data folder: each migration step takes version N to N+1 in one transaction.
 */
final class SqliteSchema {

  /** The version this build writes and reads. */
  static final int VERSION = 1;

  /** Migration steps: element i takes the schema from version i to i+1. */
  private static final List<List<String>> STEPS = List.of(
      List.of(
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
          ) STRICT"""));

  private SqliteSchema() {}

  /** Brings the database to {@link #VERSION}; the connection must be the writer, in autocommit mode. */
  static void migrate(Connection c) throws SQLException {
    int current = currentVersion(c);
    if (current > VERSION) {
      throw new IllegalStateException("the data folder was written by a newer Arangopipe (schema version "
          + current + ", this build knows " + VERSION + "); run a newer server, or point --data-dir elsewhere");
    }
    for (int v = current; v < VERSION; v++) {
      try (Statement s = c.createStatement()) {
        s.execute("BEGIN IMMEDIATE");
        try {
          for (String ddl : STEPS.get(v)) {
            s.execute(ddl);
          }
          try (PreparedStatement p = c.prepareStatement(
              "INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                  + " ON CONFLICT(key) DO UPDATE SET value = excluded.value")) {
            p.setString(1, Integer.toString(v + 1));
            p.executeUpdate();
          }
          s.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
          s.execute("ROLLBACK");
          throw e;
        }
      }
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
