package io.arangopipe.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.GraphStoreContract;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.UnavailableException;
import io.arangopipe.server.store.VertexDoc;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
  void usesWalAndRecordsTheSchemaVersion() throws Exception {
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
  void theWalStaysNearItsRestartSizeUnderContinuousWritesAndEveryWriteIsKept() throws Exception {
    store.close();
    int restartPages = 256; // 1 MiB instead of 64 MiB
    // Small transactions (16 writes of one 2 KB row each), as under many concurrent callers.
    store = SqliteStore.open(dir, SqliteStore.Options.defaults().withWalRestartPages(restartPages).withMaxBatch(16));
    store.write(tx -> {
      tx.putCollection(io.arangopipe.server.store.CollectionDef.vertex("bulk", false));
      return null;
    });
    String padding = "x".repeat(2_000);
    int writes = 16_000;
    java.util.List<java.util.concurrent.CompletableFuture<Object>> pending = new java.util.ArrayList<>();
    for (int i = 0; i < writes; i++) { // about 40 MiB of pages through the WAL, without pause
      int k = i;
      pending.add(store.writeAsync(tx -> {
        java.time.Instant t = java.time.Instant.now();
        tx.insertVertex(new io.arangopipe.server.store.VertexDoc(
            new io.arangopipe.server.store.EntityId("bulk", String.format("k%06d", k)), null, "",
            java.util.Map.of("i", (long) k, "pad", padding), t, t, "t"));
        return null;
      }));
      if (pending.size() >= 5_000) { // within the write queue's capacity
        pending.forEach(java.util.concurrent.CompletableFuture::join);
        pending.clear();
      }
    }
    pending.forEach(java.util.concurrent.CompletableFuture::join);
    long db = java.nio.file.Files.size(dir.resolve("arangopipe.db"));
    long wal = java.nio.file.Files.size(dir.resolve("arangopipe.db-wal"));
    // Without the restart the WAL would hold every page written (more than the database itself).
    assertThat(db).isGreaterThan(30L << 20);
    assertThat(wal).isLessThan(db / 4);
    long n = store.read(tx -> tx.count("bulk"));
    assertThat(n).isEqualTo(writes);
    store.close();
    store = null;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
        assertThat(r.getString(1)).isEqualTo("ok");
      }
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM vertices WHERE collection = 'bulk'")) {
        assertThat(r.getLong(1)).isEqualTo(writes);
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

  private static VertexDoc thing(String key) {
    Instant t = Instant.now();
    return new VertexDoc(new EntityId("things", key), null, "", Map.of("k", key), t, t, "t");
  }

  private java.util.Optional<VertexDoc> thingAt(String key) {
    return store.read(tx -> tx.vertex(new EntityId("things", key)));
  }

  private void reopen(SqliteStore.Options options) {
    store.close();
    store = SqliteStore.open(dir, options);
    store.write(tx -> {
      if (tx.collection("things").isEmpty()) {
        tx.putCollection(CollectionDef.vertex("things", false));
      }
      return null;
    });
  }

  @Test
  void aWriteIsAnsweredOnlyOnceTheWalIsSynced() throws Exception {
    CountDownLatch syncing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean hold = new AtomicBoolean();
    reopen(SqliteStore.Options.defaults().withWalSync(wal -> {
      if (hold.get()) {
        syncing.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
      }
      SqliteStore.WalSync.FDATASYNC.sync(wal);
    }));
    hold.set(true);
    CompletableFuture<Object> write = store.writeAsync(tx -> {
      tx.insertVertex(thing("a"));
      return "done";
    });
    assertThat(syncing.await(30, TimeUnit.SECONDS)).isTrue();
    // Committed to the WAL, so readers see it, but not yet durable: the caller has no answer.
    assertThat(thingAt("a")).isPresent();
    assertThat(write).isNotDone();
    hold.set(false);
    release.countDown();
    assertThat(write.get(30, TimeUnit.SECONDS)).isEqualTo("done");
  }

  @Test
  void aFailedWalSyncFailsTheWaitingWritesAndRefusesLaterOnesUntilARestart() {
    AtomicBoolean failing = new AtomicBoolean();
    reopen(SqliteStore.Options.defaults().withWalSync(wal -> {
      if (failing.get()) {
        throw new IOException("Input/output error (injected)");
      }
      SqliteStore.WalSync.FDATASYNC.sync(wal);
    }));
    store.write(tx -> {
      tx.insertVertex(thing("before"));
      return null;
    });
    assertThat(store.probe()).isTrue();
    failing.set(true);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertVertex(thing("unknown"));
      return null;
    })).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("the fsync that makes it durable failed (Input/output error (injected))")
        .hasMessageContaining("restart the server").hasMessageContaining("same request_id");
    assertThat(store.probe()).isFalse();
    failing.set(false);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertVertex(thing("after"));
      return null;
    })).isInstanceOf(UnavailableException.class).hasMessageContaining("takes no writes")
        .hasMessageContaining("nothing was written");
    // Reads go on.
    assertThat(thingAt("before")).isPresent();
    // A restart recovers what is on disk and takes writes again.
    reopen(SqliteStore.Options.defaults());
    assertThat(store.probe()).isTrue();
    store.write(tx -> {
      tx.insertVertex(thing("after"));
      return null;
    });
    assertThat(thingAt("after")).isPresent();
    assertThat(thingAt("before")).isPresent();
  }

  @Test
  void aUnitThatFailsInAGroupCommitUndoesOnlyItsOwnWrites() throws Exception {
    reopen(SqliteStore.Options.defaults());
    // Hold the writer thread so that the next writes queue up and are committed as one batch.
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Object> blocker = store.writeAsync(tx -> {
      running.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return null;
    });
    assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
    AtomicInteger attemptsOfFirst = new AtomicInteger();
    CompletableFuture<Object> first = store.writeAsync(tx -> {
      attemptsOfFirst.incrementAndGet();
      tx.insertVertex(thing("first"));
      return "first";
    });
    CompletableFuture<Object> failing = store.writeAsync(tx -> {
      tx.insertVertex(thing("half"));
      throw new NotFoundException("things/missing", "no document has id things/missing");
    });
    CompletableFuture<Object> last = store.writeAsync(tx -> {
      tx.insertVertex(thing("last"));
      return "last";
    });
    release.countDown();
    blocker.get(30, TimeUnit.SECONDS);
    assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("first");
    assertThat(last.get(30, TimeUnit.SECONDS)).isEqualTo("last");
    assertThatThrownBy(failing::join).hasCauseInstanceOf(NotFoundException.class);
    assertThat(thingAt("first")).isPresent();
    assertThat(thingAt("last")).isPresent();
    assertThat(thingAt("half")).isEmpty();
    // The batch ran without savepoints first, was undone when a unit failed, and ran again with them.
    assertThat(attemptsOfFirst).hasValue(2);
    long things = store.read(tx -> tx.count("things"));
    assertThat(things).isEqualTo(2L);
  }
}
