package io.arangopipe.server.store.sqlite;

import java.sql.SQLException;

/**
 * An SQLite error inside a unit of work. It aborts the whole transaction (SQLite may already have rolled
 * it back), unlike the domain exceptions, which only undo their own unit of work.
 */
final class SqliteFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SqliteFailure(SQLException cause) {
    super(cause.getMessage(), cause);
  }

  SQLException sqlCause() {
    return (SQLException) getCause();
  }
}
