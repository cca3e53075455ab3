package io.arangopipe.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Prepared statements of one connection, reused by SQL text (least recently used beyond a bound).
 * Preparing costs more than running most of our statements, so this is a large share of a write's CPU.
 * Like its connection, a cache is used by one thread at a time.
 */
final class StatementCache implements AutoCloseable {
  private static final int MAX = 256;

  private final Connection connection;
  private final LinkedHashMap<String, PreparedStatement> statements = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
      if (size() > MAX) {
        closeQuietly(eldest.getValue());
        return true;
      }
      return false;
    }
  };

  StatementCache(Connection connection) {
    this.connection = connection;
  }

  Connection connection() {
    return connection;
  }

  /** A prepared statement for the SQL, with its parameters cleared. */
  PreparedStatement get(String sql) throws SQLException {
    PreparedStatement p = statements.get(sql);
    if (p == null) {
      p = connection.prepareStatement(sql);
      statements.put(sql, p);
    } else {
      p.clearParameters();
    }
    return p;
  }

  /** Forgets a statement that failed, so a broken one is never reused. */
  void evict(String sql) {
    PreparedStatement p = statements.remove(sql);
    if (p != null) {
      closeQuietly(p);
    }
  }

  @Override
  public void close() {
    statements.values().forEach(StatementCache::closeQuietly);
    statements.clear();
  }

  private static void closeQuietly(PreparedStatement p) {
    try {
      p.close();
    } catch (SQLException ignored) {
      // closing
    }
  }
}
