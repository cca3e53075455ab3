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
  void aCancelledCallStopsItsQueryAndWritesNothing() {
    store.close();
    java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
    store = SqliteStore.open(dir, SqliteStore.Options.defaults().withCancellation(() -> cancelled::get));
    store.write(tx -> {
      tx.putCollection(io.arangopipe.server.store.CollectionDef.vertex("bulk", false));
      for (int i = 0; i < 20_000; i++) {
        java.time.Instant t = java.time.Instant.now();
        tx.insertVertex(new io.arangopipe.server.store.VertexDoc(
            new io.arangopipe.server.store.EntityId("bulk", "k" + i), null, "", java.util.Map.of("i", (long) i),
            t, t, "t"));
      }
      return null;
    });
    io.arangopipe.server.store.VertexQuery scan = new io.arangopipe.server.store.VertexQuery("bulk",
        java.util.List.of(new io.arangopipe.server.store.Condition(
            new io.arangopipe.server.store.Field.Doc(java.util.List.of("i")), -1L)),
        io.arangopipe.server.store.VertexQuery.Order.KEY, null, null, 10);
    java.util.List<io.arangopipe.server.store.VertexDoc> none = store.read(tx -> tx.findVertices(scan));
    assertThat(none).isEmpty();
    cancelled.set(true);
    assertThatThrownBy(() -> store.read(tx -> tx.findVertices(scan)))
        .isInstanceOf(io.arangopipe.server.store.UnavailableException.class).hasMessageContaining("cancelled");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.putCollection(io.arangopipe.server.store.CollectionDef.vertex("never", false));
      return null;
    })).isInstanceOf(io.arangopipe.server.store.UnavailableException.class).hasMessageContaining("cancelled");
    cancelled.set(false);
    java.util.Optional<io.arangopipe.server.store.CollectionDef> never = store.read(tx -> tx.collection("never"));
    assertThat(never).isEmpty();
    long bulk = store.read(tx -> tx.count("bulk"));
    assertThat(bulk).isEqualTo(20_000L);
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
