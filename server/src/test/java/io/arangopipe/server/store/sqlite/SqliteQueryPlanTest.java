package io.arangopipe.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.VertexDoc;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The query plans of the statements {@link SqliteTx} runs on the edges table: each must search the primary
 * key or an index, never scan the table. The statements are the ones the transaction really prepares
 * (recorded from its connection), planned with {@code EXPLAIN QUERY PLAN} on a current-schema database
 * without {@code ANALYZE} statistics, as a new or never-analyzed store has.
 */
class SqliteQueryPlanTest {

  @TempDir
  Path dir;

  private Connection connection;
  /** SQL texts prepared on the connection, in order. */
  private final Set<String> prepared = new LinkedHashSet<>();

  private static final Instant T = Instant.parse("2026-01-02T03:04:05Z");

  @BeforeEach
  void setUp() throws SQLException {
    connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("arangopipe.db"));
    SqliteSchema.migrate(connection);
    tx(true, tx -> {
      for (String v : List.of("run", "modelparams", "devperf", "datasets", "featuresets", "models")) {
        tx.putCollection(CollectionDef.vertex(v, true));
      }
      for (String e : List.of("run_modelparams", "run_devperf", "run_datasets", "run_featuresets", "run_models")) {
        tx.putCollection(CollectionDef.edge(e, true, CollectionDef.Flow.FORWARD, List.of(), List.of()));
      }
      for (int i = 0; i < 20; i++) {
        tx.insertVertex(new VertexDoc(new EntityId("run", "r" + i), null, "p", Map.of("tag", "t"), T, T, "t"));
        tx.insertVertex(new VertexDoc(new EntityId("datasets", "d" + i), null, "p", Map.of(), T, T, "t"));
        tx.insertEdge(new EdgeDoc(new EntityId("run_datasets", "e" + i), new EntityId("run", "r" + i),
            new EntityId("datasets", "d" + i), Map.of(), T, "t"));
      }
    });
  }

  @AfterEach
  void tearDown() throws SQLException {
    connection.close();
  }

  /** Runs the work on a transaction whose connection records every SQL text it prepares. */
  private void tx(boolean writable, Consumer<SqliteTx> work) {
    Connection recording = (Connection) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {Connection.class}, (proxy, method, args) -> {
          if (method.getName().equals("prepareStatement") && args != null && args[0] instanceof String sql) {
            prepared.add(sql);
          }
          try {
            return method.invoke(connection, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    try (StatementCache statements = new StatementCache(recording)) {
      work.accept(new SqliteTx(statements, writable, writable ? new CollectionCache() : null));
    }
  }

  /** The plan's detail lines, indented by depth. */
  private List<String> plan(String sql) throws SQLException {
    Map<Integer, Integer> depth = new LinkedHashMap<>();
    depth.put(0, 0);
    List<String> lines = new ArrayList<>();
    try (PreparedStatement p = connection.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
      int n = p.getParameterMetaData().getParameterCount();
      for (int i = 1; i <= n; i++) {
        p.setNull(i, java.sql.Types.NULL);
      }
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          int d = depth.getOrDefault(r.getInt(2), 0) + 1;
          depth.put(r.getInt(1), d);
          lines.add("  ".repeat(d - 1) + r.getString(4));
        }
      }
    }
    return lines;
  }

  /** Plans every recorded statement that reads or deletes edges (INSERTs have no plan lines). */
  private Map<String, List<String>> edgePlans(Consumer<SqliteTx> work, boolean writable) throws SQLException {
    prepared.clear();
    tx(writable, work);
    Map<String, List<String>> plans = new LinkedHashMap<>();
    for (String sql : prepared) {
      if (sql.contains("edges") && !sql.startsWith("INSERT")) {
        plans.put(sql, plan(sql));
      }
    }
    assertThat(plans).as("statements on edges").isNotEmpty();
    return plans;
  }

  /** The aliases of the edges table in the statements (the table's own name where it has none). */
  private static final Pattern EDGE_SCAN = Pattern.compile("SCAN (edges|ep|epf|ed|ef|em)\\b");

  private static void neverScansEdges(Map<String, List<String>> plans) {
    plans.forEach((sql, lines) -> {
      System.out.println("EXPLAIN QUERY PLAN " + sql.strip() + "\n  " + String.join("\n  ", lines));
      assertThat(lines).as(sql).noneMatch(l -> EDGE_SCAN.matcher(l).find());
    });
  }

  private static final EntityId RUN = new EntityId("run", "r1");
  private static final EntityId DATASET = new EntityId("datasets", "d1");

  @Test
  void outboundEdgesOfSearchThePairIndexAndInboundOnesEdgesByTo() throws SQLException {
    Map<String, List<String>> plans = edgePlans(tx -> {
      assertThat(tx.edgesOf(List.of(RUN), true, 10)).hasSize(1);
      assertThat(tx.edgesOf(List.of(RUN, new EntityId("run", "r2")), true, Set.of("run_datasets", "run_models"), 10))
          .hasSize(2);
      assertThat(tx.edgesOf(List.of(DATASET), false, 10)).hasSize(1);
      assertThat(tx.edgesOf(List.of(DATASET), false, Set.of("run_datasets"), 10)).hasSize(1);
    }, false);
    neverScansEdges(plans);
    List<String> details = plans.values().stream().flatMap(List::stream).toList();
    assertThat(details).contains(
        "SEARCH edges USING INDEX edges_by_pair (from_id=?)",
        "SEARCH edges USING INDEX edges_by_pair (from_id=? AND collection=?)",
        "SEARCH edges USING INDEX edges_by_to (to_id=?)",
        "SEARCH edges USING INDEX edges_by_to (to_id=? AND collection=?)");
  }

  @Test
  void edgeEdgeBetweenScanCountAndDropUseAKey() throws SQLException {
    Map<String, List<String>> reads = edgePlans(tx -> {
      assertThat(tx.edge(new EntityId("run_datasets", "e1"))).isPresent();
      assertThat(tx.edgeBetween("run_datasets", RUN, DATASET)).isPresent();
      assertThat(tx.scanEdges("run_datasets", "e1", 100)).hasSize(18);
      assertThat(tx.count("run_datasets")).isEqualTo(20L);
    }, false);
    neverScansEdges(reads);
    List<String> details = reads.values().stream().flatMap(List::stream).toList();
    assertThat(details).contains(
        "SEARCH edges USING INDEX sqlite_autoindex_edges_1 (collection=? AND key=?)",
        "SEARCH edges USING INDEX edges_by_pair (from_id=? AND collection=? AND to_id=?)",
        "SEARCH edges USING INDEX sqlite_autoindex_edges_1 (collection=? AND key>?)");
    // The edge conflict path (the key first, then the pair) and dropping a collection.
    Map<String, List<String>> writes = edgePlans(tx -> {
      tx.insertEdge(new EdgeDoc(new EntityId("run_datasets", "new"), RUN, new EntityId("datasets", "d2"), Map.of(),
          T, "t"));
      try {
        tx.insertEdge(new EdgeDoc(new EntityId("run_datasets", "other"), RUN, DATASET, Map.of(), T, "t"));
      } catch (io.arangopipe.server.store.AlreadyExistsException expected) {
        assertThat(expected.existingId()).isEqualTo("run_datasets/e1");
      }
      assertThat(tx.dropCollection("run_datasets")).isEqualTo(21L);
    }, true);
    neverScansEdges(writes);
  }

  @Test
  void runJoinsSearchAKeyPerRun() throws SQLException {
    Map<String, List<String>> plans = edgePlans(tx -> {
      assertThat(tx.searchRuns("p", null, OrderSpec.BY_KEY, null, 10)).hasSize(10)
          .allSatisfy(row -> assertThat(row.dataset()).isNotNull());
      assertThat(tx.aggregate(new Aggregation.Query(null, "", null, List.of(),
          List.of(new Aggregation.Aggregate(Aggregation.Function.COUNT, null)), -1, false, 10)))
          .singleElement().satisfies(row -> assertThat(row.values()).containsExactly(20L));
    }, false);
    neverScansEdges(plans);
    for (List<String> lines : plans.values()) {
      // Each edge join is a LEFT JOIN: its plan line ends in LEFT-JOIN.
      for (String alias : List.of("ep", "epf", "ed", "ef")) {
        assertThat(lines).anyMatch(l -> l.strip().matches(
            "SEARCH " + alias + " USING (COVERING )?INDEX edges_by_pair \\(from_id=\\? AND collection=\\?\\).*"));
      }
      assertThat(lines).anyMatch(l -> l.strip().startsWith("SEARCH em USING ")
          && l.contains("INDEX edges_by_to (to_id=?"));
    }
  }
}
