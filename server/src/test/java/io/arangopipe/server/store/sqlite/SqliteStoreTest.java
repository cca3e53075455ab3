package io.arangopipe.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.GraphStoreContract;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The contract suite on the embedded store, plus what only the embedded store has. */
class SqliteStoreTest extends GraphStoreContract {

  @Override
  protected GraphStore open(Path dir) {
    return SqliteStore.open(dir, SqliteStore.Options.defaults());
  }

  @Test
  void aSecondServerCannotOpenTheSameDataFolder() {
    assertThatThrownBy(() -> SqliteStore.open(dir, SqliteStore.Options.defaults()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("another Arangopipe server is using the data folder")
        .hasMessageContaining("--data-dir");
  }

  @Test
  void usesWalFullSyncAndRecordsTheSchemaVersion() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("PRAGMA journal_mode")) {
        assertThat(r.getString(1)).isEqualTo("wal");
      }
      try (ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key = 'schema_version'")) {
        assertThat(r.getString(1)).isEqualTo(Integer.toString(SqliteSchema.VERSION));
      }
      try (ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
        assertThat(r.getString(1)).isEqualTo("ok");
      }
    }
  }

  @Test
  void refusesADataFolderFromANewerRelease() throws Exception {
    store.close();
    store = null;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    }
    assertThatThrownBy(() -> open(dir)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("newer Arangopipe (schema version 999");
  }
}
