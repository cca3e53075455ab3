package io.arangopipe.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every graph store must do. Each store's test class extends this and says how to open the store;
 * the suite runs unchanged against each.
 */
public abstract class GraphStoreContract {

  @TempDir
  protected Path dir;

  protected GraphStore store;

  /** Opens a store on {@code dir}; opening again after {@link GraphStore#close} must see the same data. */
  protected abstract GraphStore open(Path dir);

  private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123456Z");

  @BeforeEach
  void setUp() {
    store = open(dir);
    store.write(tx -> {
      tx.putCollection(CollectionDef.vertex("things", true));
      tx.putCollection(CollectionDef.vertex("others", false));
      tx.putCollection(CollectionDef.edge("links", false, CollectionDef.Flow.FORWARD, List.of("things"),
          List.of("things", "others")));
      return null;
    });
  }

  @AfterEach
  void tearDown() {
    if (store != null) {
      store.close();
    }
  }

  protected static VertexDoc vertex(String collection, String key, String name, String project,
      Map<String, Object> doc) {
    return new VertexDoc(new EntityId(collection, key), name, project, doc, T0, T0, "tester");
  }

  protected static EdgeDoc edge(String key, EntityId from, EntityId to) {
    return new EdgeDoc(new EntityId("links", key), from, to, Map.of("w", 1L), T0, "tester");
  }

  private void insert(VertexDoc... vs) {
    store.write(tx -> {
      for (VertexDoc v : vs) {
        tx.insertVertex(v);
      }
      return null;
    });
  }

  private List<VertexDoc> find(String collection, Condition... conds) {
    return store.read(tx -> tx.findVertices(new VertexQuery(collection, List.of(conds), VertexQuery.Order.KEY,
        null, null, 100)));
  }

  private static Map<String, Object> doc(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  // ---- vertices ----------------------------------------------------------------------------------

  @Test
  void vertexRoundTripKeepsEveryJsonType() {
    Map<String, Object> d = doc("s", "héllo ✓", "i", 42L, "f", 0.25, "b", true, "n", null,
        "list", List.of(1L, "two", List.of()), "obj", doc("deep", doc("er", -7L)));
    VertexDoc v = vertex("things", "k1", "first", "", d);
    insert(v);
    VertexDoc got = vertexAt(new EntityId("things", "k1")).orElseThrow();
    assertThat(got).isEqualTo(v);
    assertThat(got.createTime()).isEqualTo(T0.truncatedTo(ChronoUnit.MICROS));
  }

  @Test
  void projectsOfAnswersForTheVerticesThatExistInOneCall() {
    List<VertexDoc> vs = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      vs.add(vertex(i % 2 == 0 ? "things" : "others", "p" + i, null, i % 3 == 0 ? "" : "proj" + (i % 3),
          doc("i", (long) i)));
    }
    insert(vs.toArray(VertexDoc[]::new));
    List<EntityId> ids = new ArrayList<>(vs.stream().map(VertexDoc::id).toList());
    ids.add(new EntityId("things", "absent"));
    ids.add(new EntityId("no_such_collection", "p1"));
    ids.add(new EntityId("others", "p0")); // p0 is in things, not others
    Map<EntityId, String> got = store.read(tx -> tx.projectsOf(ids));
    assertThat(got).hasSize(600);
    for (VertexDoc v : vs) {
      assertThat(got).containsEntry(v.id(), v.project());
    }
    assertThat(got).doesNotContainKeys(new EntityId("things", "absent"), new EntityId("no_such_collection", "p1"),
        new EntityId("others", "p0"));
    Map<EntityId, String> none = store.read(tx -> tx.projectsOf(List.of()));
    assertThat(none).isEmpty();
  }

  @Test
  void missingVertexIsEmptyNotAnError() {
    assertThat(vertexAt(new EntityId("things", "nope"))).isEmpty();
    assertThat(vertexAt(new EntityId("no_such_collection", "x"))).isEmpty();
  }

  @Test
  void verticesFetchesManyAcrossCollections() {
    List<VertexDoc> vs = new ArrayList<>();
    for (int i = 0; i < 1200; i++) {
      vs.add(vertex(i % 2 == 0 ? "things" : "others", "k" + i, null, "", doc("i", (long) i)));
    }
    insert(vs.toArray(VertexDoc[]::new));
    List<EntityId> ids = new ArrayList<>(vs.stream().map(VertexDoc::id).toList());
    ids.add(new EntityId("things", "absent"));
    Map<EntityId, VertexDoc> got = store.read(tx -> tx.vertices(ids));
    assertThat(got).hasSize(1200);
    assertThat(got.get(new EntityId("others", "k1001")).doc()).containsEntry("i", 1001L);
  }

  @Test
  void duplicateKeyIsAlreadyExistsWithTheExistingId() {
    insert(vertex("things", "k1", null, "", doc()));
    assertThatThrownBy(() -> insert(vertex("things", "k1", null, "", doc("x", 1L))))
        .isInstanceOf(AlreadyExistsException.class)
        .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("things/k1"));
  }

  @Test
  void namesAreUniquePerCollectionAndProject() {
    insert(vertex("things", "a", "same", "p1", doc()));
    insert(vertex("things", "b", "same", "p2", doc()));
    insert(vertex("others", "c", "same", "p1", doc()));
    insert(vertex("things", "d", null, "p1", doc()), vertex("things", "e", null, "p1", doc()));
    assertThatThrownBy(() -> insert(vertex("things", "f", "same", "p1", doc())))
        .isInstanceOf(AlreadyExistsException.class)
        .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("things/a"));
  }

  @Test
  void insertIntoMissingOrEdgeCollectionIsNotFound() {
    assertThatThrownBy(() -> insert(vertex("nope", "a", null, "", doc()))).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> insert(vertex("links", "a", null, "", doc()))).isInstanceOf(NotFoundException.class);
  }

  @Test
  void replaceChangesDocumentAndUpdateTimeOnly() {
    insert(vertex("things", "a", "n", "p", doc("v", 1L)));
    Instant later = T0.plusSeconds(60);
    store.write(tx -> {
      tx.replaceVertex(tx.vertex(new EntityId("things", "a")).orElseThrow().withDoc(doc("v", 2L), later));
      return null;
    });
    VertexDoc got = vertexAt(new EntityId("things", "a")).orElseThrow();
    assertThat(got.doc()).isEqualTo(doc("v", 2L));
    assertThat(got.updateTime()).isEqualTo(later);
    assertThat(got.createTime()).isEqualTo(T0);
    assertThat(got.name()).isEqualTo("n");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.replaceVertex(vertex("things", "ghost", null, "", doc()));
      return null;
    })).isInstanceOf(NotFoundException.class);
  }

  // ---- queries -----------------------------------------------------------------------------------

  @Test
  void findMatchesSystemFieldsAndDocumentPaths() {
    insert(
        vertex("things", "a", "alpha", "p1", doc("score", 3L, "tag", "x", "flag", true, "nil", null,
            "nested", doc("level", doc("deep", "yes")), "fixed acidity", 7.4, "a.b", "dotted")),
        vertex("things", "b", "beta", "p2", doc("score", 3.0, "tag", "3", "flag", false,
            "nested", doc("level", doc("deep", "no")))),
        vertex("things", "c", "gamma", "p1", doc("score", 3.5, "tag", 3L)));

    assertThat(keys(find("things", new Condition(new Field.Name(), "beta")))).containsExactly("b");
    assertThat(keys(find("things", new Condition(new Field.Project(), "p1")))).containsExactly("a", "c");
    assertThat(keys(find("things", new Condition(new Field.Key(), "c")))).containsExactly("c");
    // Numbers compare numerically, across integer and floating point.
    assertThat(keys(find("things", cond(3L, "score")))).containsExactly("a", "b");
    assertThat(keys(find("things", cond(3.0, "score")))).containsExactly("a", "b");
    assertThat(keys(find("things", cond(3.5, "score")))).containsExactly("c");
    // Strings never equal numbers.
    assertThat(keys(find("things", cond("3", "tag")))).containsExactly("b");
    assertThat(keys(find("things", cond(3L, "tag")))).containsExactly("c");
    assertThat(keys(find("things", cond(true, "flag")))).containsExactly("a");
    assertThat(keys(find("things", cond(false, "flag")))).containsExactly("b");
    // null matches an explicit null, not a missing attribute.
    assertThat(keys(find("things", cond(null, "nil")))).containsExactly("a");
    assertThat(keys(find("things", cond("yes", "nested", "level", "deep")))).containsExactly("a");
    assertThat(keys(find("things", cond(7.4, "fixed acidity")))).containsExactly("a");
    assertThat(keys(find("things", cond("dotted", "a.b")))).containsExactly("a");
    assertThat(keys(find("things", cond("x", "tag"), new Condition(new Field.Project(), "p2")))).isEmpty();
  }

  private static Condition cond(Object value, String... path) {
    return new Condition(new Field.Doc(List.of(path)), value);
  }

  @Test
  void hostileStringsAreOnlyValues() {
    String evil = "x'); DROP TABLE vertices; --";
    insert(vertex("things", "a", evil, "", doc(evil, evil)));
    assertThat(keys(find("things", new Condition(new Field.Name(), evil)))).containsExactly("a");
    assertThat(keys(find("things", cond(evil, evil)))).containsExactly("a");
    assertThat(keys(find("things", cond("x", "') OR 1=1 --")))).isEmpty();
    assertThat(keys(find("things", new Condition(new Field.Name(), "' OR '1'='1")))).isEmpty();
    assertThat(count("things")).isEqualTo(1);
  }

  @Test
  void pagesByKeyAndByName() {
    insert(vertex("things", "k3", "b", "", doc()), vertex("things", "k1", "c", "", doc()),
        vertex("things", "k2", "a", "", doc()), vertex("things", "k4", null, "", doc()));
    List<VertexDoc> first = store.read(tx -> tx.findVertices(
        new VertexQuery("things", List.of(), VertexQuery.Order.KEY, null, null, 2)));
    assertThat(keys(first)).containsExactly("k1", "k2");
    List<VertexDoc> second = store.read(tx -> tx.findVertices(
        new VertexQuery("things", List.of(), VertexQuery.Order.KEY, "k2", null, 2)));
    assertThat(keys(second)).containsExactly("k3", "k4");
    List<VertexDoc> byName = store.read(tx -> tx.findVertices(
        new VertexQuery("things", List.of(), VertexQuery.Order.NAME, "a", "k2", 10)));
    assertThat(byName.stream().map(VertexDoc::name).toList()).containsExactly("b", "c");
  }

  @Test
  void runTagsAreFoundThroughTheirIndexedPath() {
    store.write(tx -> {
      tx.putCollection(CollectionDef.vertex("run", true));
      return null;
    });
    insert(vertex("run", "r1", null, "", doc("tag", "t", "deployment_tag", "d")),
        vertex("run", "r2", null, "", doc("tag", "u", "deployment_tag", "d")));
    assertThat(keys(find("run", cond("t", "tag")))).containsExactly("r1");
    assertThat(keys(find("run", cond("d", "deployment_tag")))).containsExactly("r1", "r2");
  }

  // ---- edges -------------------------------------------------------------------------------------

  @Test
  void edgesRoundTripAndAreFoundFromEitherEnd() {
    insert(vertex("things", "a", null, "", doc()), vertex("things", "b", null, "", doc()),
        vertex("others", "c", null, "", doc()));
    EntityId a = new EntityId("things", "a");
    EntityId b = new EntityId("things", "b");
    EntityId c = new EntityId("others", "c");
    store.write(tx -> {
      tx.insertEdge(edge("e1", a, b));
      tx.insertEdge(edge("e2", a, c));
      tx.insertEdge(edge("e3", b, c));
      return null;
    });
    assertThat(edgeAt(new EntityId("links", "e1"))).contains(edge("e1", a, b));
    assertThat(edgeBetween("links", a, c).map(EdgeDoc::id))
        .contains(new EntityId("links", "e2"));
    assertThat(edgesOf(List.of(a), true, 10)).hasSize(2);
    assertThat(edgesOf(List.of(c), false, 10).stream().map(e -> e.from().key()))
        .containsExactlyInAnyOrder("a", "b");
    assertThat(edgesOf(List.of(a, b), true, 2)).hasSize(2);
    assertThat(edgesOf(List.of(c), true, 10)).isEmpty();
    // Only some edge types: the traversal asks for the ones it follows.
    assertThat(edgesOf(List.of(a), true, java.util.Set.of("links"), 10)).hasSize(2);
    assertThat(edgesOf(List.of(a), true, java.util.Set.of("other_links"), 10)).isEmpty();
    assertThat(edgesOf(List.of(a), true, java.util.Set.of(), 10)).isEmpty();
  }

  @Test
  void oneEdgePerTypeBetweenTwoVertices() {
    EntityId a = new EntityId("things", "a");
    EntityId b = new EntityId("things", "b");
    store.write(tx -> {
      tx.insertEdge(edge("e1", a, b));
      return null;
    });
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertEdge(edge("e2", a, b));
      return null;
    })).isInstanceOf(AlreadyExistsException.class)
        .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("links/e1"));
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertEdge(edge("e1", b, a));
      return null;
    })).isInstanceOf(AlreadyExistsException.class);
  }

  @Test
  void aBulkInsertRefusedInALaterStatementLeavesNothing() {
    insert(vertex("things", "c150", null, "p", doc()));
    List<VertexDoc> many = new ArrayList<>();
    for (int i = 0; i < 203; i++) { // statements of 64, 64, 64, 8, 2 and 1 rows: c150 is in the third
      many.add(vertex("things", "c" + i, null, "p", doc("i", (long) i)));
    }
    store.write(tx -> {
      assertThatThrownBy(() -> tx.insertVertices(many)).isInstanceOf(AlreadyExistsException.class)
          .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("things/c150"));
      assertThat(tx.vertex(new EntityId("things", "c0"))).isEmpty();
      assertThat(tx.vertex(new EntityId("things", "c149"))).isEmpty();
      assertThat(tx.vertex(new EntityId("things", "c202"))).isEmpty();
      tx.insertVertex(vertex("things", "after", null, "p", doc())); // the unit of work goes on
      return null;
    });
    assertThat(vertexAt(new EntityId("things", "after"))).isPresent();
    assertThat(vertexAt(new EntityId("things", "c0"))).isEmpty();
  }

  @Test
  void aBulkInsertKeepsEachRowsOwnValuesWhereRowsShareSome() {
    // Rows that share a value in some columns and not in others: the bulk insert binds shared values once.
    EntityId hub = new EntityId("things", "hub");
    insert(vertex("things", "hub", null, "", doc()));
    List<VertexDoc> many = new ArrayList<>();
    List<EdgeDoc> edges = new ArrayList<>();
    for (int i = 0; i < 75; i++) {
      Map<String, Object> d = i % 3 == 0 ? WrittenDoc.of(doc("i", (long) i, "s", "x")) : doc("i", (long) i);
      Instant t = i < 70 ? T0 : T0.plusSeconds(i);
      many.add(new VertexDoc(new EntityId("things", "s" + i), i % 2 == 0 ? null : "n" + i, i % 5 == 0 ? "q" : "p",
          d, t, i == 74 ? t.plusSeconds(1) : t, i == 40 ? "other" : "tester"));
      EntityId to = new EntityId("things", "s" + i);
      edges.add(new EdgeDoc(new EntityId("links", "k" + i), i == 7 ? to : hub, to, i == 9 ? Map.of() : Map.of("w", 1L),
          t, "tester"));
    }
    store.write(tx -> {
      tx.insertVertices(many);
      tx.insertEdges(edges);
      return null;
    });
    for (VertexDoc v : many) {
      assertThat(vertexAt(v.id())).contains(v);
    }
    for (EdgeDoc e : edges) {
      Optional<EdgeDoc> stored = store.read(tx -> tx.edge(e.id()));
      assertThat(stored).contains(e);
    }
  }

  @Test
  void bulkInsertsAreAllOrNoneAndReportTheFirstConflict() {
    insert(vertex("things", "x", "named", "p", doc()));
    EntityId a = new EntityId("things", "a");
    EntityId x = new EntityId("things", "x");
    store.write(tx -> {
      tx.insertEdge(edge("ex", x, x));
      return null;
    });
    // In one unit of work: each failed bulk insert leaves nothing, and the unit goes on.
    store.write(tx -> {
      assertThatThrownBy(() -> tx.insertVertices(List.of(vertex("things", "a", null, "p", doc()),
          vertex("things", "x", null, "p", doc()), vertex("things", "b", "named", "p", doc()))))
          .isInstanceOf(AlreadyExistsException.class)
          .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("things/x"));
      assertThatThrownBy(() -> tx.insertVertices(List.of(vertex("things", "a", null, "p", doc()),
          vertex("things", "b", "named", "p", doc()))))
          .isInstanceOf(AlreadyExistsException.class)
          .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("things/x"));
      assertThatThrownBy(() -> tx.insertVertices(List.of(vertex("things", "a", null, "p", doc()),
          vertex("nope", "b", null, "p", doc())))).isInstanceOf(NotFoundException.class);
      assertThat(tx.vertex(a)).isEmpty();
      assertThatThrownBy(() -> tx.insertEdges(List.of(edge("e1", a, a), edge("e2", x, x))))
          .isInstanceOf(AlreadyExistsException.class)
          .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("links/ex"));
      assertThatThrownBy(() -> tx.insertEdges(List.of(edge("e1", a, a), edge("ex", a, x))))
          .isInstanceOf(AlreadyExistsException.class)
          .satisfies(e -> assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("links/ex"));
      assertThat(tx.edge(new EntityId("links", "e1"))).isEmpty();
      List<VertexDoc> many = new ArrayList<>();
      List<EdgeDoc> edges = new ArrayList<>();
      for (int i = 0; i < 203; i++) { // several statements' worth
        many.add(vertex("things", "m" + i, null, "p", doc("i", (long) i)));
        edges.add(edge("l" + i, x, new EntityId("things", "m" + i)));
      }
      tx.insertVertices(many);
      tx.insertEdges(edges);
      return null;
    });
    assertThat(vertexAt(a)).isEmpty();
    assertThat(count("things")).isEqualTo(204);
    assertThat(vertexAt(new EntityId("things", "m202")).orElseThrow().doc()).containsEntry("i", 202L);
    assertThat(edgesOf(List.of(x), true, 1000)).hasSize(204);
  }

  @Test
  void typeChangesThatRollBackAreNotSeenLater() {
    insert(vertex("others", "a", null, "", doc()));
    assertThatThrownBy(() -> store.write(tx -> {
      tx.putCollection(CollectionDef.vertex("late", false));
      tx.insertVertex(vertex("late", "a", null, "", doc()));
      throw new FailedPreconditionException("NOPE", "changed my mind");
    })).isInstanceOf(FailedPreconditionException.class);
    assertThatThrownBy(() -> insert(vertex("late", "b", null, "", doc()))).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.dropCollection("others");
      throw new FailedPreconditionException("NOPE", "changed my mind");
    })).isInstanceOf(FailedPreconditionException.class);
    insert(vertex("others", "b", null, "", doc()));
    store.write(tx -> tx.dropCollection("others"));
    assertThatThrownBy(() -> insert(vertex("others", "c", null, "", doc()))).isInstanceOf(NotFoundException.class);
    store.write(tx -> {
      tx.putCollection(CollectionDef.edge("others", false, CollectionDef.Flow.FORWARD, List.of("things"),
          List.of("things")));
      return null;
    });
    assertThatThrownBy(() -> insert(vertex("others", "c", null, "", doc()))).isInstanceOf(NotFoundException.class);
  }

  // ---- collections -------------------------------------------------------------------------------

  @Test
  void collectionsListBuiltinFirstAndDropDeletesContents() {
    assertThat(names()).containsExactly("things", "links", "others");
    insert(vertex("others", "a", null, "", doc()), vertex("others", "b", null, "", doc()));
    assertThat(count("others")).isEqualTo(2);
    assertThat(collectionAt("links").orElseThrow().toTypes()).containsExactly("things", "others");
    long dropped = store.write(tx -> tx.dropCollection("others"));
    assertThat(dropped).isEqualTo(2);
    assertThat(collectionAt("others")).isEmpty();
    assertThat(vertexAt(new EntityId("others", "a"))).isEmpty();
  }


  @Test
  void requestRecordsRoundTrip() {
    RequestRecord r = new RequestRecord("req-1", "LogRun", "abc", "run/r1", T0);
    store.write(tx -> {
      tx.putRequest(r);
      return null;
    });
    assertThat(req("req-1")).contains(r);
    assertThat(req("req-2")).isEmpty();
  }

  // ---- scans (export) ----------------------------------------------------------------------------

  @Test
  void scanEdgesPagesOneCollectionByKey() {
    insert(vertex("things", "a", null, "", doc()), vertex("things", "b", null, "", doc()),
        vertex("others", "c", null, "", doc()));
    store.write(tx -> {
      tx.putCollection(CollectionDef.edge("more_links", false, CollectionDef.Flow.FORWARD, List.of("things"),
          List.of("things")));
      EntityId a = new EntityId("things", "a");
      EntityId b = new EntityId("things", "b");
      EntityId c = new EntityId("others", "c");
      tx.insertEdge(edge("k3", a, b));
      tx.insertEdge(edge("k1", a, c));
      tx.insertEdge(edge("k2", b, a));
      tx.insertEdge(new EdgeDoc(new EntityId("more_links", "k0"), a, b, doc(), T0, "tester"));
      return null;
    });
    List<EdgeDoc> first = scanEdges("links", "", 2);
    assertThat(first).extracting(e -> e.id().key()).containsExactly("k1", "k2");
    assertThat(first.get(0)).isEqualTo(edge("k1", new EntityId("things", "a"), new EntityId("others", "c")));
    assertThat(scanEdges("links", "k2", 2)).extracting(e -> e.id().key()).containsExactly("k3");
    assertThat(scanEdges("links", "k3", 2)).isEmpty();
    assertThat(scanEdges("more_links", "", 10)).extracting(e -> e.id().toString())
        .containsExactly("more_links/k0");
    assertThat(scanEdges("no_such_links", "", 10)).isEmpty();
  }

  @Test
  void scanHistoryReturnsEveryEntitysRecordsInOrderWithTheirTimeAndActor() {
    EntityId a = new EntityId("things", "a");
    EntityId b = new EntityId("things", "b");
    Instant t1 = T0.plusSeconds(1);
    store.write(tx -> {
      tx.appendHistory(new HistoryRecord(0, b, t1, "alice", "UPDATED", Map.of("x", Map.of("old", 1L, "new", 2L))));
      tx.appendHistory(new HistoryRecord(0, a, T0, "bob", "STATUS_CHANGED", Map.of()));
      tx.appendHistory(new HistoryRecord(0, b, T0, "carol", "UPDATED", Map.of("y", 1.5)));
      return null;
    });
    List<HistoryRecord> all = scanHistory(0, 10);
    assertThat(all).extracting(HistoryRecord::id).containsExactly(b, a, b);
    assertThat(all).extracting(HistoryRecord::actor).containsExactly("alice", "bob", "carol");
    assertThat(all.get(0).time()).isEqualTo(t1);
    assertThat(all.get(0).changes()).isEqualTo(Map.of("x", Map.of("old", 1L, "new", 2L)));
    assertThat(all.get(0).seq()).isLessThan(all.get(1).seq());
    assertThat(all.get(1).seq()).isLessThan(all.get(2).seq());
    List<HistoryRecord> rest = scanHistory(all.get(0).seq(), 1);
    assertThat(rest).containsExactly(all.get(1));
    assertThat(scanHistory(all.get(2).seq(), 10)).isEmpty();
  }

  @Test
  void scanRequestsPagesByRequestId() {
    RequestRecord r2 = new RequestRecord("b-2", "LogRun", "f2", "run/r2", T0);
    RequestRecord r1 = new RequestRecord("a-1", "LogRun", "f1", "run/r1", T0.plusSeconds(1));
    RequestRecord r3 = new RequestRecord("c-3", "AddVertexType", "f3", "things", T0);
    store.write(tx -> {
      tx.putRequest(r2);
      tx.putRequest(r1);
      tx.putRequest(r3);
      return null;
    });
    assertThat(scanRequests("", 2)).containsExactly(r1, r2);
    assertThat(scanRequests("b-2", 2)).containsExactly(r3);
    assertThat(scanRequests("c-3", 2)).isEmpty();
  }

  // ---- transactions ------------------------------------------------------------------------------

  @Test
  void aFailedUnitOfWorkLeavesNothingBehind() {
    assertThatThrownBy(() -> store.write(tx -> {
      tx.insertVertex(vertex("things", "a", null, "", doc()));
      tx.insertEdge(edge("e", new EntityId("things", "a"), new EntityId("things", "a")));
      tx.putRequest(new RequestRecord("r", "op", "f", "x", T0));
      throw new FailedPreconditionException("NOPE", "changed my mind");
    })).isInstanceOf(FailedPreconditionException.class).hasMessage("changed my mind");
    assertThat(vertexAt(new EntityId("things", "a"))).isEmpty();
    assertThat(edgeAt(new EntityId("links", "e"))).isEmpty();
    assertThat(req("r")).isEmpty();
  }

  @Test
  void aUnitOfWorkReadsItsOwnWrites() {
    boolean seen = store.write(tx -> {
      tx.insertVertex(vertex("things", "a", "n", "", doc()));
      return tx.vertex(new EntityId("things", "a")).isPresent()
          && tx.findVertices(new VertexQuery("things", List.of(new Condition(new Field.Name(), "n")),
              VertexQuery.Order.KEY, null, null, 1)).size() == 1;
    });
    assertThat(seen).isTrue();
  }

  @Test
  void concurrentWritesAllCommitAndFailuresStayIsolated() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    AtomicInteger failed = new AtomicInteger();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        int n = i;
        futures.add(pool.submit(() -> {
          try {
            store.write(tx -> {
              tx.insertVertex(vertex("things", "k" + n, "name" + n, "", doc("n", (long) n)));
              if (n % 4 == 0) {
                throw new InvalidArgumentException("n", "multiple of four");
              }
              return null;
            });
          } catch (InvalidArgumentException e) {
            failed.incrementAndGet();
          }
        }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(failed.get()).isEqualTo(100);
    assertThat(count("things")).isEqualTo(300);
    assertThat(vertexAt(new EntityId("things", "k4"))).isEmpty();
    assertThat(vertexAt(new EntityId("things", "k5"))).isPresent();
  }

  @Test
  void committedWritesSurviveReopening() {
    insert(vertex("things", "a", "n", "p", doc("v", 1L)));
    store.close();
    store = open(dir);
    assertThat(vertexAt(new EntityId("things", "a")).orElseThrow().doc()).containsEntry("v", 1L);
    assertThat(names()).contains("things", "links", "others");
  }

  @Test
  void aClosedStoreRefusesWork() {
    store.close();
    assertThatThrownBy(() -> store.write(tx -> null)).isInstanceOf(UnavailableException.class);
    assertThatThrownBy(() -> store.read(tx -> null)).isInstanceOf(UnavailableException.class);
    store = null;
  }

  // Typed reads, so that assertions infer their types.
  private java.util.Optional<VertexDoc> vertexAt(EntityId id) {
    return store.read(tx -> tx.vertex(id));
  }

  private long count(String c) {
    return store.read(tx -> tx.count(c));
  }

  private java.util.Optional<EdgeDoc> edgeAt(EntityId id) {
    return store.read(tx -> tx.edge(id));
  }

  private java.util.Optional<RequestRecord> req(String id) {
    return store.read(tx -> tx.request(id));
  }

  private List<EdgeDoc> scanEdges(String collection, String afterKey, int limit) {
    return store.read(tx -> tx.scanEdges(collection, afterKey, limit));
  }

  private List<HistoryRecord> scanHistory(long afterSeq, int limit) {
    return store.read(tx -> tx.scanHistory(afterSeq, limit));
  }

  private List<RequestRecord> scanRequests(String afterId, int limit) {
    return store.read(tx -> tx.scanRequests(afterId, limit));
  }

  private java.util.Optional<CollectionDef> collectionAt(String name) {
    return store.read(tx -> tx.collection(name));
  }

  private List<EdgeDoc> edgesOf(List<EntityId> ids, boolean outbound, int limit) {
    return store.read(tx -> tx.edgesOf(ids, outbound, limit));
  }

  private List<EdgeDoc> edgesOf(List<EntityId> ids, boolean outbound, java.util.Set<String> types, int limit) {
    return store.read(tx -> tx.edgesOf(ids, outbound, types, limit));
  }

  private java.util.Optional<EdgeDoc> edgeBetween(String c, EntityId from, EntityId to) {
    return store.read(tx -> tx.edgeBetween(c, from, to));
  }

  private List<String> names() {
    return store.read(tx -> tx.collections().stream().map(CollectionDef::name).toList());
  }

  private static List<String> keys(List<VertexDoc> vs) {
    return vs.stream().map(v -> v.id().key()).toList();
  }
}
