package io.arangopipe.server.store.arangodb;

import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.Cursor;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.query.RunRow;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.Sha256;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.WriteTx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One stream transaction (or, for tests of the compiler's plumbing, any runner of AQL). Reads see the
 * transaction's own writes. Collections are created outside the transaction (ArangoDB allows no DDL in
 * one) by {@link Catalog#ensure}; their definitions are written inside it, so a failed unit of work
 * leaves at most an empty, undefined collection behind, which no read can see.
 */
final class ArangoTx implements WriteTx {

  /** Runs one query in this transaction and returns its result rows. */
  @FunctionalInterface
  interface Runner {
    List<Object> run(Aql query);
  }

  /** Which physical collections exist, and creating them. */
  interface Catalog {
    boolean exists(String physical);

    /** Creates the physical collection of a definition (and its indexes, and its place in the graph). */
    void ensure(CollectionDef def);
  }

  private static final int CHUNK = 1000;

  private final Runner runner;
  private final Catalog catalog;
  private final boolean writable;

  ArangoTx(Runner runner, Catalog catalog, boolean writable) {
    this.runner = runner;
    this.catalog = catalog;
    this.writable = writable;
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> docs(Aql q) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : runner.run(q)) {
      if (o != null) {
        out.add((Map<String, Object>) o);
      }
    }
    return out;
  }

  private long number(Aql q) {
    List<Object> r = runner.run(q);
    return r.isEmpty() || !(r.get(0) instanceof Number n) ? 0 : n.longValue();
  }

  // ---- reads -------------------------------------------------------------------------------------

  @Override
  public Optional<CollectionDef> collection(String name) {
    if (!catalog.exists(Layout.DEFS)) {
      return Optional.empty();
    }
    // Keyed by the physical name: a valid document key even for hidden collections ("_users").
    return docs(AqlCompiler.byKey(Layout.DEFS, Layout.physical(name))).stream().map(ArangoTx::def)
        .filter(d -> d.name().equals(name)).findFirst();
  }

  @Override
  public List<CollectionDef> collections() {
    if (!catalog.exists(Layout.DEFS)) {
      return List.of();
    }
    return docs(AqlCompiler.collectionDefs()).stream().map(ArangoTx::def).toList();
  }

  @Override
  public long count(String collection) {
    String p = Layout.physical(collection);
    return physicalOk(p) ? number(AqlCompiler.count(p)) : 0;
  }

  private boolean physicalOk(String physical) {
    return Aql.COLLECTION.matcher(physical).matches() && catalog.exists(physical);
  }

  @Override
  public Optional<VertexDoc> vertex(EntityId id) {
    String p = Layout.physical(id.collection());
    if (!physicalOk(p)) {
      return Optional.empty();
    }
    return docs(AqlCompiler.byKey(p, id.key())).stream().filter(d -> !d.containsKey("_from"))
        .map(d -> Layout.vertex(id.collection(), d)).findFirst();
  }

  @Override
  public Map<EntityId, VertexDoc> vertices(Collection<EntityId> ids) {
    Map<String, List<String>> byCollection = new LinkedHashMap<>();
    for (EntityId id : ids) {
      byCollection.computeIfAbsent(id.collection(), k -> new ArrayList<>()).add(id.key());
    }
    Map<EntityId, VertexDoc> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : byCollection.entrySet()) {
      String p = Layout.physical(e.getKey());
      if (!physicalOk(p)) {
        continue;
      }
      List<String> keys = e.getValue();
      for (int i = 0; i < keys.size(); i += CHUNK) {
        for (Map<String, Object> d : docs(AqlCompiler.byKeys(p, keys.subList(i, Math.min(keys.size(), i + CHUNK))))) {
          if (!d.containsKey("_from")) {
            VertexDoc v = Layout.vertex(e.getKey(), d);
            out.put(v.id(), v);
          }
        }
      }
    }
    return out;
  }

  @Override
  public Optional<EdgeDoc> edge(EntityId id) {
    String p = Layout.physical(id.collection());
    if (!physicalOk(p)) {
      return Optional.empty();
    }
    return docs(AqlCompiler.byKey(p, id.key())).stream().filter(d -> d.containsKey("_from"))
        .map(d -> Layout.edge(id.collection(), d)).findFirst();
  }

  @Override
  public Optional<EdgeDoc> edgeBetween(String collection, EntityId from, EntityId to) {
    String p = Layout.physical(collection);
    if (!physicalOk(p)) {
      return Optional.empty();
    }
    return docs(AqlCompiler.edgeBetween(p, Layout.physicalId(from), Layout.physicalId(to))).stream()
        .map(d -> Layout.edge(collection, d)).findFirst();
  }

  @Override
  public List<EdgeDoc> edgesOf(Collection<EntityId> vertexIds, boolean outbound, Set<String> collections, int limit) {
    List<EdgeDoc> out = new ArrayList<>();
    if (collections != null && collections.isEmpty()) {
      return out;
    }
    List<String> names = collections == null
        ? collections().stream().filter(CollectionDef::isEdge).map(CollectionDef::name).toList()
        : List.copyOf(collections);
    List<String> ids = vertexIds.stream().map(Layout::physicalId).toList();
    for (String name : names) {
      String p = Layout.physical(name);
      if (!physicalOk(p)) {
        continue;
      }
      for (int i = 0; i < ids.size() && out.size() < limit; i += CHUNK) {
        List<String> part = ids.subList(i, Math.min(ids.size(), i + CHUNK));
        for (Map<String, Object> d : docs(AqlCompiler.edgesOf(p, part, outbound, limit - out.size()))) {
          out.add(Layout.edge(name, d));
        }
      }
      if (out.size() >= limit) {
        break;
      }
    }
    return out;
  }

  @Override
  public List<VertexDoc> searchVertices(String collection, List<Condition> conditions, Expr filter, OrderSpec order,
      Cursor after, int limit) {
    String p = Layout.physical(collection);
    if (!physicalOk(p)) {
      return List.of();
    }
    return docs(AqlCompiler.searchVertices(p, collection, conditions, filter, order, after, limit)).stream()
        .map(d -> Layout.vertex(collection, d)).toList();
  }

  @Override
  @SuppressWarnings("unchecked")
  public List<RunRow> searchRuns(String project, Expr filter, OrderSpec order, Cursor after, int limit) {
    if (!runCollectionsExist()) {
      return List.of();
    }
    List<RunRow> out = new ArrayList<>();
    for (Map<String, Object> row : docs(AqlCompiler.searchRuns(project, filter, order, after, limit))) {
      out.add(new RunRow(v("run", row.get("r")), v("modelparams", row.get("mp")), v("devperf", row.get("dp")),
          v("datasets", row.get("ds")), v("featuresets", row.get("fs")), v("models", row.get("m"))));
    }
    return out;
  }

  private boolean runCollectionsExist() {
    for (String c : List.of("run", "run_modelparams", "modelparams", "run_devperf", "devperf", "run_datasets",
        "datasets", "run_featuresets", "featuresets", "run_models", "models")) {
      if (!catalog.exists(c)) {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  private static VertexDoc v(String collection, Object doc) {
    return doc instanceof Map<?, ?> m ? Layout.vertex(collection, (Map<String, Object>) m) : null;
  }

  @Override
  @SuppressWarnings("unchecked")
  public List<Aggregation.Row> aggregate(Aggregation.Query q) {
    String physical = q.collection() == null ? null : Layout.physical(q.collection());
    boolean present = physical == null ? runCollectionsExist() : physicalOk(physical);
    List<Aggregation.Row> out = new ArrayList<>();
    if (present) {
      for (Map<String, Object> row : docs(AqlCompiler.aggregate(q, physical))) {
        List<Object> keys = new ArrayList<>();
        for (Object k : (List<Object>) row.get("k")) {
          keys.add(Json.normalize(k));
        }
        List<Object> raw = (List<Object>) row.get("a");
        out.add(new Aggregation.Row(keys, finish(q, raw)));
      }
    }
    if (out.isEmpty() && q.groupBy().isEmpty()) {
      // One group of nothing, as SQL's aggregate without GROUP BY gives.
      List<Object> values = new ArrayList<>();
      for (Aggregation.Aggregate a : q.aggregates()) {
        values.add(a.function() == Aggregation.Function.COUNT || a.function() == Aggregation.Function.COUNT_DISTINCT
            ? (Object) 0L : null);
      }
      out.add(new Aggregation.Row(List.of(), values));
    }
    return out;
  }

  private static List<Object> finish(Aggregation.Query q, List<Object> raw) {
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < q.aggregates().size(); i++) {
      Object o = raw.get(i);
      if (q.aggregates().get(i).function() == Aggregation.Function.STDDEV) {
        List<?> parts = (List<?>) o;
        long n = ((Number) parts.get(0)).longValue();
        double sum = parts.get(1) == null ? 0 : ((Number) parts.get(1)).doubleValue();
        double sq = parts.get(2) == null ? 0 : ((Number) parts.get(2)).doubleValue();
        values.add(n < 2 ? null : Math.sqrt(Math.max(0, (sq - sum * sum / n) / (n - 1))));
      } else {
        values.add(Json.normalize(o));
      }
    }
    return values;
  }

  @Override
  public List<HistoryRecord> history(EntityId id, long afterSeq, int limit) {
    if (!catalog.exists(Layout.HISTORY)) {
      return List.of();
    }
    return docs(AqlCompiler.history(id.toString(), afterSeq, limit)).stream().map(ArangoTx::historyRecord).toList();
  }

  /** Every entity's change records in sequence order, with sequence numbers above afterSeq. */
  @Override
  public List<HistoryRecord> scanHistory(long afterSeq, int limit) {
    if (!catalog.exists(Layout.HISTORY)) {
      return List.of();
    }
    return docs(AqlCompiler.scanHistory(afterSeq, limit)).stream().map(ArangoTx::historyRecord).toList();
  }

  /** A page of one edge collection's edges ordered by key, strictly after afterKey ("" = from the start). */
  @Override
  public List<EdgeDoc> scanEdges(String collection, String afterKey, int limit) {
    String p = Layout.physical(collection);
    if (!physicalOk(p)) {
      return List.of();
    }
    return docs(AqlCompiler.scanEdges(p, afterKey, limit)).stream().map(d -> Layout.edge(collection, d)).toList();
  }

  @Override
  public Optional<RequestRecord> request(String requestId) {
    if (!catalog.exists(Layout.REQUESTS)) {
      return Optional.empty();
    }
    return docs(AqlCompiler.byKey(Layout.REQUESTS, requestKey(requestId))).stream()
        .map(ArangoTx::requestRecord)
        .findFirst();
  }

  /** A page of idempotent-write records ordered by request id, strictly after afterId ("" = from the start). */
  @Override
  public List<RequestRecord> scanRequests(String afterId, int limit) {
    if (!catalog.exists(Layout.REQUESTS)) {
      return List.of();
    }
    return docs(AqlCompiler.scanRequests(afterId, limit)).stream().map(ArangoTx::requestRecord).toList();
  }

  private static RequestRecord requestRecord(Map<String, Object> d) {
    return new RequestRecord((String) d.get("request_id"), (String) d.get("operation"),
        (String) d.get("fingerprint"), (String) d.get("result"), Layout.instant(d.get("create_time")));
  }

  // ---- writes ------------------------------------------------------------------------------------

  @Override
  public void insertVertex(VertexDoc v) {
    requireWritable();
    String p = requireCollection(v.id().collection(), CollectionDef.Kind.VERTEX);
    if (vertex(v.id()).isPresent()) {
      throw new AlreadyExistsException(v.id().toString(), "a document with id " + v.id() + " already exists");
    }
    if (v.name() != null) {
      List<Condition> same = List.of(new Condition(new io.arangopipe.server.store.Field.Name(), v.name()),
          new Condition(new io.arangopipe.server.store.Field.Project(), v.project()));
      List<VertexDoc> clash = searchVertices(v.id().collection(), same, null, OrderSpec.BY_KEY, null, 1);
      if (!clash.isEmpty()) {
        String existing = clash.get(0).id().toString();
        throw new AlreadyExistsException(existing, v.id().collection() + " named \"" + v.name() + "\""
            + (v.project().isEmpty() ? "" : " in project \"" + v.project() + "\"") + " already exists: " + existing);
      }
    }
    Map<String, Object> doc = Layout.vertexDocument(v);
    doc.put("_key", v.id().key());
    runner.run(AqlCompiler.insert(p, doc));
  }

  @Override
  public void replaceVertex(VertexDoc v) {
    requireWritable();
    String p = Layout.physical(v.id().collection());
    long n = physicalOk(p) ? runner.run(AqlCompiler.replaceVertex(p, v.id().key(), Layout.topLevel(v.doc()),
        Layout.reserved(v.doc()), Layout.micros(v.updateTime()), Layout.system(v, null))).size() : 0;
    if (n == 0) {
      throw new NotFoundException(v.id().toString(), "no document has id " + v.id());
    }
  }

  @Override
  public void insertEdge(EdgeDoc e) {
    requireWritable();
    String p = requireCollection(e.id().collection(), CollectionDef.Kind.EDGE);
    if (edge(e.id()).isPresent()) {
      throw new AlreadyExistsException(e.id().toString(), "an edge with id " + e.id() + " already exists");
    }
    Optional<EdgeDoc> same = edgeBetween(e.id().collection(), e.from(), e.to());
    if (same.isPresent()) {
      throw new AlreadyExistsException(same.get().id().toString(),
          "an edge of " + e.id().collection() + " from " + e.from() + " to " + e.to() + " already exists");
    }
    runner.run(AqlCompiler.insert(p, Layout.edgeDocument(e)));
  }

  @Override
  public void putCollection(CollectionDef d) {
    requireWritable();
    if (Layout.reservedName(d.name()) || !Aql.COLLECTION.matcher(Layout.physical(d.name())).matches()) {
      throw new InvalidArgumentException("name", "\"" + d.name() + "\": names starting with \"" + Layout.PREFIX
          + "\" are reserved by the ArangoDB store");
    }
    catalog.ensure(d);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("name", d.name());
    doc.put("kind", d.kind().name());
    doc.put("builtin", d.builtin());
    doc.put("flow", d.flow().name());
    doc.put("from_types", d.fromTypes());
    doc.put("to_types", d.toTypes());
    if (collection(d.name()).isPresent()) {
      runner.run(AqlCompiler.update(Layout.DEFS, Layout.physical(d.name()), doc));
    } else {
      doc.put("ordinal", number(AqlCompiler.maxOrdinal()) + 1);
      doc.put("_key", Layout.physical(d.name()));
      runner.run(AqlCompiler.insert(Layout.DEFS, doc));
    }
  }

  @Override
  public long dropCollection(String name) {
    requireWritable();
    String p = Layout.physical(name);
    long n = 0;
    if (physicalOk(p)) {
      n = number(AqlCompiler.count(p));
      runner.run(AqlCompiler.removeAll(p));
    }
    runner.run(AqlCompiler.remove(Layout.DEFS, Layout.physical(name)));
    return n;
  }

  @Override
  public void appendHistory(HistoryRecord h) {
    requireWritable();
    List<Map<String, Object>> counter = docs(AqlCompiler.byKey(Layout.META, Layout.HISTORY_SEQ));
    long seq = (counter.isEmpty() || !(counter.get(0).get("value") instanceof Number n) ? 0 : n.longValue()) + 1;
    if (counter.isEmpty()) {
      runner.run(AqlCompiler.insert(Layout.META, new LinkedHashMap<>(Map.of("_key", Layout.HISTORY_SEQ, "value", seq))));
    } else {
      runner.run(AqlCompiler.update(Layout.META, Layout.HISTORY_SEQ, Map.of("value", seq)));
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("_key", String.format("%019d", seq));
    doc.put("seq", seq);
    doc.put("entity_id", h.id().toString());
    doc.put("time", Layout.micros(h.time()));
    doc.put("actor", h.actor());
    doc.put("action", h.action());
    doc.put("changes", h.changes());
    runner.run(AqlCompiler.insert(Layout.HISTORY, doc));
  }

  @Override
  public void putRequest(RequestRecord r) {
    requireWritable();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("_key", requestKey(r.requestId()));
    doc.put("request_id", r.requestId());
    doc.put("operation", r.operation());
    doc.put("fingerprint", r.fingerprint());
    doc.put("result", r.result());
    doc.put("create_time", Layout.micros(r.createTime()));
    runner.run(AqlCompiler.insert(Layout.REQUESTS, doc));
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  /** Request ids are free text; the document key is their SHA-256. */
  static String requestKey(String requestId) {
    return Sha256.hex(requestId);
  }

  private void requireWritable() {
    if (!writable) {
      throw new IllegalStateException("write in a read-only transaction");
    }
  }

  /** {@link #requireType}, and the physical collection (created when missing): its name. */
  private String requireCollection(String name, CollectionDef.Kind kind) {
    CollectionDef def = requireType(name, kind);
    String p = Layout.physical(name);
    if (!catalog.exists(p)) {
      catalog.ensure(def);
    }
    return p;
  }

  @SuppressWarnings("unchecked")
  private static CollectionDef def(Map<String, Object> d) {
    return new CollectionDef((String) d.get("name"), CollectionDef.Kind.valueOf((String) d.get("kind")),
        Boolean.TRUE.equals(d.get("builtin")), CollectionDef.Flow.valueOf((String) d.get("flow")),
        ((List<Object>) d.get("from_types")).stream().map(String::valueOf).toList(),
        ((List<Object>) d.get("to_types")).stream().map(String::valueOf).toList());
  }

  @SuppressWarnings("unchecked")
  private static HistoryRecord historyRecord(Map<String, Object> d) {
    Object changes = Json.normalize(d.get("changes"));
    return new HistoryRecord(((Number) d.get("seq")).longValue(), EntityId.of((String) d.get("entity_id")),
        Layout.instant(d.get("time")), (String) d.get("actor"), (String) d.get("action"),
        changes instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of());
  }
}
