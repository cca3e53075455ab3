package io.arangopipe.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.ReadTx;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Schema migrations of the embedded store: a data folder as version 1 left it, with real rows written by
 * raw SQL, opened by this build.
 */
class SqliteSchemaMigrationTest {

  @TempDir
  Path dir;

  private SqliteStore store;

  @AfterEach
  void tearDown() {
    if (store != null) {
      store.close();
    }
  }

  private static final String EDGE_COLUMNS = "collection, key, from_id, to_id, doc, create_time, creator";

  /** Edges as version 1 stored them, in an order that is neither by key nor by the new primary key. */
  private static final List<List<Object>> EDGES = List.of(
      List.of("links", "e3", "things/b", "others/c", "{\"w\":3}", 1_767_323_045_123_456L, "alice"),
      List.of("links", "e1", "things/a", "things/b", "{\"w\":1,\"note\":\"first \u00e9\u00e8\"}",
          1_767_323_045_000_001L, "bob"),
      // Two edges of one collection from the same vertex, inserted against the new key's to_id order.
      List.of("links", "e2", "things/a", "others/c", "{}", -5L, "carol"),
      List.of("links", "e0", "things/a", "things/d", "{\"nested\":{\"k\":[1,2.5,null,true]}}", 0L, "bob"),
      // The same pair as e1 in another collection: the pair rule is per collection.
      List.of("other_links", "e1", "things/a", "things/b", "{\"x\":\"y\"}", 42L, "dave"),
      List.of("other_links", "f2", "others/c", "things/a", "{}", 7L, "erin"));

  /** A version-1 database with collections, vertices and {@link #EDGES}. */
  private void buildVersion1() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"))) {
      SqliteSchema.migrate(c, 1);
      assertThat(SqliteSchema.currentVersion(c)).isEqualTo(1);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO collections(name, kind, builtin, flow, from_types, to_types, ordinal) VALUES"
            + " ('things', 'VERTEX', 1, 'FORWARD', '[]', '[]', 1),"
            + " ('others', 'VERTEX', 0, 'FORWARD', '[]', '[]', 2),"
            + " ('links', 'EDGE', 0, 'FORWARD', '[\"things\"]', '[\"things\",\"others\"]', 3),"
            + " ('other_links', 'EDGE', 0, 'REVERSE', '[]', '[]', 4)");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO vertices(collection, key, name, project, doc,"
          + " create_time, update_time, creator) VALUES (?, ?, NULL, '', '{}', 1, 1, 'tester')")) {
        for (String id : List.of("things/a", "things/b", "things/d", "others/c")) {
          EntityId v = EntityId.of(id);
          p.setString(1, v.collection());
          p.setString(2, v.key());
          p.executeUpdate();
        }
      }
      try (PreparedStatement p = c.prepareStatement(
          "INSERT INTO edges(" + EDGE_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        for (List<Object> row : EDGES) {
          for (int i = 0; i < row.size(); i++) {
            p.setObject(i + 1, row.get(i));
          }
          p.executeUpdate();
        }
      }
    }
  }

  private static List<List<Object>> edgeRows(Connection c) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT " + EDGE_COLUMNS + " FROM edges ORDER BY collection, key")) {
      while (r.next()) {
        rows.add(List.of(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
            r.getLong(6), r.getString(7)));
      }
    }
    return rows;
  }

  private static final EntityId A = EntityId.of("things/a");
  private static final EntityId B = EntityId.of("things/b");
  private static final EntityId C = EntityId.of("others/c");
  private static final EntityId D = EntityId.of("things/d");

  /** Every edge lookup the store makes, as one value to compare before and after the migration. */
  private static Map<String, Object> lookups(ReadTx tx) {
    Map<String, Object> out = new java.util.TreeMap<>();
    for (String key : List.of("links/e0", "links/e1", "links/e2", "links/e3", "other_links/e1",
        "other_links/f2", "links/nope")) {
      out.put("edge " + key, tx.edge(EntityId.of(key)));
    }
    for (String coll : List.of("links", "other_links")) {
      for (EntityId from : List.of(A, B, C, D)) {
        for (EntityId to : List.of(A, B, C, D)) {
          out.put("between " + coll + " " + from + " " + to, tx.edgeBetween(coll, from, to));
        }
      }
      out.put("scan " + coll, tx.scanEdges(coll, "", 100));
      out.put("scan " + coll + " after e1", tx.scanEdges(coll, "e1", 100));
      out.put("count " + coll, tx.count(coll));
    }
    List<Set<String>> types = new ArrayList<>();
    types.add(null);
    types.add(Set.of("links"));
    types.add(Set.of("other_links"));
    types.add(Set.of("links", "other_links"));
    types.add(Set.of());
    for (Set<String> only : types) {
      for (boolean outbound : new boolean[] {true, false}) {
        for (List<EntityId> ids : List.of(List.of(A), List.of(B), List.of(C), List.of(D), List.of(A, B, C, D))) {
          // The order of edgesOf is not part of its contract (and differs between the versions' indexes).
          out.put("edgesOf " + outbound + " " + ids + " " + only,
              Set.copyOf(tx.edgesOf(ids, outbound, only, 100)));
        }
      }
    }
    return out;
  }

  @Test
  void version1MigratesToVersion2WithEveryEdgeAndTheSameAnswers() throws Exception {
    buildVersion1();
    List<List<Object>> before;
    Map<String, Object> answersBefore;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        StatementCache statements = new StatementCache(c)) {
      before = edgeRows(c);
      answersBefore = lookups(new SqliteTx(statements, false));
    }
    assertThat(before).hasSize(EDGES.size());
    assertThat((Optional<?>) answersBefore.get("edge links/e2")).isPresent();

    Logger schemaLog = (Logger) LoggerFactory.getLogger(SqliteSchema.class);
    ch.qos.logback.classic.Level level = schemaLog.getLevel();
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    schemaLog.setLevel(ch.qos.logback.classic.Level.INFO);
    schemaLog.addAppender(logged);
    try {
      store = SqliteStore.open(dir, SqliteStore.Options.defaults());
    } finally {
      schemaLog.detachAppender(logged);
      schemaLog.setLevel(level);
    }
    // What a user upgrading a large store sees at start: what is being indexed, then how long it took.
    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).isEqualTo("upgrading the embedded store from schema version 1 to 2: indexing 6 edges");
    assertThat(lines.get(1)).matches("upgraded the embedded store from schema version 1 to 2 in \\d+ ms");
    assertThat(logged.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO));

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      assertThat(edgeRows(c)).isEqualTo(before);
      try (ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key = 'schema_version'")) {
        assertThat(r.getString(1)).isEqualTo("2");
      }
      try (ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
        assertThat(r.getString(1)).isEqualTo("ok");
      }
      List<String> edgeIndexes = new ArrayList<>();
      try (ResultSet r = s.executeQuery(
          "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'edges' ORDER BY name")) {
        while (r.next()) {
          edgeIndexes.add(r.getString(1));
        }
      }
      // The pair index leads with from_id now; edges_by_from is gone.
      assertThat(edgeIndexes).containsExactly("edges_by_pair", "edges_by_to", "sqlite_autoindex_edges_1");
      List<String> pairColumns = new ArrayList<>();
      try (ResultSet r = s.executeQuery("SELECT name FROM pragma_index_info('edges_by_pair') ORDER BY seqno")) {
        while (r.next()) {
          pairColumns.add(r.getString(1));
        }
      }
      assertThat(pairColumns).containsExactly("from_id", "collection", "to_id");
      try (ResultSet r = s.executeQuery("SELECT \"unique\" FROM pragma_index_list('edges') WHERE name = 'edges_by_pair'")) {
        assertThat(r.getInt(1)).as("unique").isEqualTo(1);
      }
    }

    Map<String, Object> answersAfter = store.read(SqliteSchemaMigrationTest::lookups);
    assertThat(answersAfter).isEqualTo(answersBefore);
    // The lookups found edges: a's three links out, and the two links into c.
    assertThat((Set<?>) answersAfter.get("edgesOf true [things/a] [links]")).hasSize(3);
    assertThat((Set<?>) answersAfter.get("edgesOf false [others/c] null")).hasSize(2);
  }

  @Test
  void theMigratedStoreStillRefusesADuplicateKeyOrPair() throws Exception {
    buildVersion1();
    store = SqliteStore.open(dir, SqliteStore.Options.defaults());
    Instant t = Instant.parse("2026-02-03T04:05:06.789012Z");
    // The same key, another pair.
    EdgeDoc sameKey = new EdgeDoc(EntityId.of("links/e2"), B, D, Map.of(), t, "t");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertEdge(sameKey);
      return null;
    })).isInstanceOfSatisfying(AlreadyExistsException.class,
        e -> assertThat(e.existingId()).isEqualTo("links/e2"));
    // The same pair in the same collection, another key.
    EdgeDoc samePair = new EdgeDoc(EntityId.of("links/new"), A, C, Map.of(), t, "t");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertEdge(samePair);
      return null;
    })).isInstanceOfSatisfying(AlreadyExistsException.class,
        e -> assertThat(e.existingId()).isEqualTo("links/e2"));
    // The bulk insert refuses both the same way, and writes none of its rows.
    EdgeDoc fine = new EdgeDoc(EntityId.of("links/fine"), B, A, Map.of(), t, "t");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertEdges(List.of(fine, samePair));
      return null;
    })).isInstanceOfSatisfying(AlreadyExistsException.class,
        e -> assertThat(e.existingId()).isEqualTo("links/e2"));
    Optional<EdgeDoc> notWritten = store.read(tx -> tx.edge(fine.id()));
    assertThat(notWritten).isEmpty();
    // The same pair in another collection, and another pair from the same vertex, are new edges.
    EdgeDoc otherCollection = new EdgeDoc(EntityId.of("other_links/g"), A, C, Map.of("k", "v"), t, "t");
    EdgeDoc otherPair = new EdgeDoc(EntityId.of("links/e9"), A, A, Map.of(), t, "t");
    store.write(tx -> {
      tx.insertEdges(List.of(otherCollection, otherPair));
      return null;
    });
    Optional<EdgeDoc> byKey = store.read(tx -> tx.edge(otherCollection.id()));
    assertThat(byKey).contains(otherCollection);
    Optional<EdgeDoc> byPair = store.read(tx -> tx.edgeBetween("links", A, A));
    assertThat(byPair).contains(otherPair);
    long links = store.read(tx -> tx.count("links"));
    assertThat(links).isEqualTo(5L);
  }

  @Test
  void aFailedStepLeavesTheDataFolderAsItWas() throws Exception {
    buildVersion1();
    List<List<Object>> before;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      before = edgeRows(c);
      // The step's second statement fails (its index is missing) after its first dropped edges_by_from.
      s.executeUpdate("DROP INDEX edges_by_pair");
    }
    assertThatThrownBy(() -> SqliteStore.open(dir, SqliteStore.Options.defaults()))
        .isInstanceOf(io.arangopipe.server.store.UnavailableException.class).hasMessageContaining("edges_by_pair");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      assertThat(SqliteSchema.currentVersion(c)).isEqualTo(1);
      assertThat(edgeRows(c)).isEqualTo(before);
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM sqlite_schema WHERE name = 'edges_by_from'")) {
        assertThat(r.getInt(1)).as("the first statement was rolled back").isEqualTo(1);
      }
      s.executeUpdate("CREATE UNIQUE INDEX edges_by_pair ON edges(collection, from_id, to_id)");
    }
    // The failed open released the data folder: the same process opens it, and the step runs.
    store = SqliteStore.open(dir, SqliteStore.Options.defaults());
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"))) {
      assertThat(SqliteSchema.currentVersion(c)).isEqualTo(2);
    }
    Optional<EdgeDoc> e2 = store.read(tx -> tx.edgeBetween("links", A, C));
    assertThat(e2.map(EdgeDoc::id)).contains(EntityId.of("links/e2"));
  }

  @Test
  void aFreshDataFolderRunsEveryStep() throws Exception {
    store = SqliteStore.open(dir, SqliteStore.Options.defaults());
    store.close();
    store = null;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"))) {
      assertThat(SqliteSchema.currentVersion(c)).isEqualTo(SqliteSchema.VERSION).isEqualTo(2);
      List<List<Object>> none = edgeRows(c);
      assertThat(none).isEmpty();
    }
  }

  @Test
  void refusesADataFolderAtTheNextVersion() throws Exception {
    store = SqliteStore.open(dir, SqliteStore.Options.defaults());
    store.close();
    store = null;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
        Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    }
    assertThatThrownBy(() -> SqliteStore.open(dir, SqliteStore.Options.defaults()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("the data folder was written by a newer Arangopipe (schema version 3, this build"
            + " knows 2); run a newer server, or point --data-dir elsewhere");
    // Refused before anything was changed.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"))) {
      assertThat(SqliteSchema.currentVersion(c)).isEqualTo(3);
    }
  }
}
