package io.arangopipe.server.store.sqlite;

import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.Cursor;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.query.Ref.Bound;
import io.arangopipe.server.query.Ref.Source;
import io.arangopipe.server.query.RunRow;
import io.arangopipe.server.store.Field;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.WriteTx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One transaction on one connection. Every statement binds its values; the only text spliced into SQL
 * comes from constants in this class. Read-only transactions refuse writes.
 */
final class SqliteTx implements WriteTx {

  /** IN-list chunk size: well below SQLite's 32,766 host-parameter limit. */
  private static final int CHUNK = 500;

  /** Attribute paths of run documents that have an expression index (see {@link SqliteSchema}). */
  private static final Set<String> INDEXED_RUN_PATHS = Set.of("tag", "deployment_tag");

  private static final String VERTEX_COLUMNS =
      "collection, key, name, project, doc, create_time, update_time, creator";
  private static final String EDGE_COLUMNS = "collection, key, from_id, to_id, doc, create_time, creator";

  /** Rows per multi-row INSERT: the largest power of two at most this, then smaller ones for the rest. */
  private static final int MAX_ROWS_PER_INSERT = 64;

  /**
   * Up to this many rows (a LogRun's 3 vertices and 5 edges) are inserted with one single-row INSERT each.
   * A multi-row INSERT inside a transaction makes SQLite copy every existing page it changes into a
   * statement journal first (so that a refused row can undo the statement's earlier rows): for a LogRun
   * that was ~18 pages, ~74 KiB copied through malloc and freed again. A single-row INSERT checks every
   * constraint before it changes anything, so it needs no journal; if one is refused, the rows inserted
   * before it are deleted again.
   */
  private static final int ONE_STATEMENT_ROWS = 8;

  private final StatementCache statements;
  private final boolean writable;
  /** The writer's collection definitions (null in read-only transactions, which read the table). */
  private final CollectionCache collectionCache;

  SqliteTx(StatementCache statements, boolean writable) {
    this(statements, writable, null);
  }

  SqliteTx(StatementCache statements, boolean writable, CollectionCache collectionCache) {
    this.statements = statements;
    this.writable = writable;
    this.collectionCache = collectionCache;
  }

  // ---- reads -------------------------------------------------------------------------------------

  @Override
  public Optional<CollectionDef> collection(String name) {
    if (collectionCache != null) {
      CollectionDef cached = collectionCache.get(name);
      if (cached != null) {
        return Optional.of(cached);
      }
      Optional<CollectionDef> def = readCollection(name);
      def.ifPresent(collectionCache::put);
      return def;
    }
    return readCollection(name);
  }

  private Optional<CollectionDef> readCollection(String name) {
    return query("SELECT name, kind, builtin, flow, from_types, to_types FROM collections WHERE name = ?",
        List.of(name), SqliteTx::collectionDef).stream().findFirst();
  }

  @Override
  public List<CollectionDef> collections() {
    return query("SELECT name, kind, builtin, flow, from_types, to_types FROM collections"
        + " ORDER BY builtin DESC, CASE WHEN builtin = 1 THEN ordinal END, name", List.of(), SqliteTx::collectionDef);
  }

  @Override
  public long count(String collection) {
    List<Long> n = query("SELECT (SELECT count(*) FROM vertices WHERE collection = ?1)"
        + " + (SELECT count(*) FROM edges WHERE collection = ?1)", List.of(collection), r -> r.getLong(1));
    return n.get(0);
  }

  @Override
  public Optional<VertexDoc> vertex(EntityId id) {
    return query("SELECT " + VERTEX_COLUMNS + " FROM vertices WHERE collection = ? AND key = ?",
        List.of(id.collection(), id.key()), SqliteTx::vertexDoc).stream().findFirst();
  }

  @Override
  public Optional<String> projectOf(EntityId id) {
    return query("SELECT project FROM vertices WHERE collection = ? AND key = ?",
        List.of(id.collection(), id.key()), r -> r.getString(1)).stream().findFirst();
  }

  @Override
  public Map<EntityId, String> projectsOf(Collection<EntityId> ids) {
    Map<EntityId, String> out = new java.util.HashMap<>();
    List<EntityId> all = List.copyOf(ids);
    for (int i = 0; i < all.size(); i += CHUNK / 2) {
      List<EntityId> part = all.subList(i, Math.min(all.size(), i + CHUNK / 2));
      // Each OR term is a primary-key lookup (SQLite's OR optimisation): one statement for all of them.
      StringBuilder sql = new StringBuilder("SELECT collection, key, project FROM vertices WHERE ");
      List<Object> params = new ArrayList<>(2 * part.size());
      for (int j = 0; j < part.size(); j++) {
        sql.append(j == 0 ? "" : " OR ").append("(collection = ? AND key = ?)");
        params.add(part.get(j).collection());
        params.add(part.get(j).key());
      }
      for (Map.Entry<EntityId, String> e : query(sql.toString(), params,
          r -> Map.entry(new EntityId(r.getString(1), r.getString(2)), r.getString(3)))) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  @Override
  public Optional<String> keyOfNamed(String collection, String name, String project) {
    return query("SELECT key FROM vertices WHERE collection = ? AND name = ? AND project = ?",
        List.of(collection, name, project), r -> r.getString(1)).stream().findFirst();
  }

  @Override
  public Map<EntityId, VertexDoc> vertices(Collection<EntityId> ids) {
    Map<String, List<String>> byCollection = new LinkedHashMap<>();
    for (EntityId id : ids) {
      byCollection.computeIfAbsent(id.collection(), k -> new ArrayList<>()).add(id.key());
    }
    Map<EntityId, VertexDoc> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : byCollection.entrySet()) {
      List<String> keys = e.getValue();
      for (int i = 0; i < keys.size(); i += CHUNK) {
        List<String> part = keys.subList(i, Math.min(keys.size(), i + CHUNK));
        List<Object> params = new ArrayList<>(part.size() + 1);
        params.add(e.getKey());
        params.addAll(part);
        for (VertexDoc v : query("SELECT " + VERTEX_COLUMNS + " FROM vertices WHERE collection = ? AND key IN ("
            + placeholders(part.size()) + ")", params, SqliteTx::vertexDoc)) {
          out.put(v.id(), v);
        }
      }
    }
    return out;
  }

  @Override
  public Optional<EdgeDoc> edge(EntityId id) {
    return query("SELECT " + EDGE_COLUMNS + " FROM edges WHERE collection = ? AND key = ?",
        List.of(id.collection(), id.key()), SqliteTx::edgeDoc).stream().findFirst();
  }

  @Override
  public Optional<EdgeDoc> edgeBetween(String collection, EntityId from, EntityId to) {
    return query("SELECT " + EDGE_COLUMNS + " FROM edges WHERE collection = ? AND from_id = ? AND to_id = ?",
        List.of(collection, from.toString(), to.toString()), SqliteTx::edgeDoc).stream().findFirst();
  }

  private static void appendCondition(StringBuilder sql, List<Object> params, Condition cond, boolean runs) {
    Object v = cond.value();
    Field field = cond.field();
    if (field instanceof Field.Key) {
      column(sql, params, "key", v);
    } else if (field instanceof Field.Name) {
      column(sql, params, "name", v);
    } else if (field instanceof Field.Project) {
      column(sql, params, "project", v);
    } else {
      List<String> path = ((Field.Doc) field).path();
      if (runs && path.size() == 1 && INDEXED_RUN_PATHS.contains(path.get(0)) && v instanceof String) {
        // The literal path comes from INDEXED_RUN_PATHS, a constant: it matches the index expression.
        sql.append("json_extract(doc, '$.").append(path.get(0)).append("') = ?");
        params.add(v);
        return;
      }
      String jsonPath = jsonPath(path);
      if (v == null) {
        sql.append("json_type(doc, ?) = 'null'");
        params.add(jsonPath);
      } else if (v instanceof Boolean b) {
        sql.append("json_type(doc, ?) = ").append(b ? "'true'" : "'false'");
        params.add(jsonPath);
      } else if (v instanceof String) {
        sql.append("(json_type(doc, ?) = 'text' AND json_extract(doc, ?) = ?)");
        params.add(jsonPath);
        params.add(jsonPath);
        params.add(v);
      } else {
        sql.append("(json_type(doc, ?) IN ('integer', 'real') AND json_extract(doc, ?) = ?)");
        params.add(jsonPath);
        params.add(jsonPath);
        params.add(v);
      }
    }
  }

  private static void column(StringBuilder sql, List<Object> params, String column, Object v) {
    if (v instanceof String) {
      sql.append(column).append(" = ?");
      params.add(v);
    } else if (v == null && column.equals("name")) {
      sql.append("name IS NULL");
    } else {
      sql.append("0"); // system columns are strings: nothing else equals them
    }
  }

  /** {@code ["a", "b c"]} becomes {@code $."a"."b c"}; labels are quoted so dots and spaces are literal. */
  static String jsonPath(List<String> path) {
    StringBuilder b = new StringBuilder("$");
    for (String seg : path) {
      if (seg.indexOf('"') >= 0 || seg.indexOf('\\') >= 0) {
        throw new IllegalArgumentException("attribute names with quotes or backslashes cannot be queried");
      }
      b.append(".\"").append(seg).append('"');
    }
    return b.toString();
  }

  @Override
  public List<EdgeDoc> edgesOf(Collection<EntityId> vertexIds, boolean outbound, Set<String> collections,
      int limit) {
    List<EdgeDoc> out = new ArrayList<>();
    if (collections != null && collections.isEmpty()) {
      return out;
    }
    List<String> ids = vertexIds.stream().map(EntityId::toString).toList();
    // edges_by_pair (from_id, collection, to_id) and edges_by_to (to_id, collection) lead with the vertex id,
    // then the collection: both INs are index searches (SqliteQueryPlanTest).
    String column = outbound ? "from_id" : "to_id";
    String only = collections == null ? "" : " AND collection IN (" + placeholders(collections.size()) + ")";
    for (int i = 0; i < ids.size() && out.size() < limit; i += CHUNK) {
      List<String> part = ids.subList(i, Math.min(ids.size(), i + CHUNK));
      List<Object> params = new ArrayList<>(part);
      if (collections != null) {
        params.addAll(collections);
      }
      params.add((long) (limit - out.size()));
      out.addAll(query("SELECT " + EDGE_COLUMNS + " FROM edges WHERE " + column + " IN ("
          + placeholders(part.size()) + ")" + only + " LIMIT ?", params, SqliteTx::edgeDoc));
    }
    return out;
  }

  // ---- searches --------------------------------------------------------------------------------

  /**
   * A run joined with what it is linked to. Each edge join must be an index lookup per run: the four from
   * the run search {@code edges_by_pair} (from_id, collection), the model edge (stored models -> run)
   * {@code edges_by_to}. The unary {@code +} on the model edge's collection term keeps the planner from
   * searching an index on {@code collection} alone instead (it did, without ANALYZE statistics, when the
   * pair index led with the collection in schema version 1: every run_models edge read for every run, 11 s
   * instead of 0.05 s for a 2,000-run project in a 100k-run database; the primary key (collection, key)
   * would allow the same mistake). SqliteQueryPlanTest checks the plans.
   */
  private static final String RUN_FROM = """
       FROM vertices r
       LEFT JOIN edges ep ON ep.from_id = 'run/' || r.key AND ep.collection = 'run_modelparams'
       LEFT JOIN vertices p ON p.collection = 'modelparams' AND p.key = substr(ep.to_id, 13)
       LEFT JOIN edges epf ON epf.from_id = 'run/' || r.key AND epf.collection = 'run_devperf'
       LEFT JOIN vertices pf ON pf.collection = 'devperf' AND pf.key = substr(epf.to_id, 9)
       LEFT JOIN edges ed ON ed.from_id = 'run/' || r.key AND ed.collection = 'run_datasets'
       LEFT JOIN vertices d ON d.collection = 'datasets' AND d.key = substr(ed.to_id, 10)
       LEFT JOIN edges ef ON ef.from_id = 'run/' || r.key AND ef.collection = 'run_featuresets'
       LEFT JOIN vertices f ON f.collection = 'featuresets' AND f.key = substr(ef.to_id, 13)
       LEFT JOIN edges em ON em.to_id = 'run/' || r.key AND +em.collection = 'run_models'
       LEFT JOIN vertices m ON m.collection = 'models' AND m.key = substr(em.from_id, 8)
      """;

  private static final Map<Source, String> RUN_ALIASES = Map.of(Source.RUN, "r", Source.MODELPARAMS, "p",
      Source.DEVPERF, "pf", Source.DATASET, "d", Source.FEATURESET, "f", Source.MODEL, "m");

  private static final Map<Source, String> SELF_ALIAS = Map.of(Source.SELF, "v");

  private static String columns(String a) {
    return a + ".collection, " + a + ".key, " + a + ".name, " + a + ".project, " + a + ".doc, " + a
        + ".create_time, " + a + ".update_time, " + a + ".creator";
  }

  @Override
  public List<VertexDoc> searchVertices(String collection, List<Condition> conditions, Expr filter,
      OrderSpec order, Cursor after, int limit) {
    List<Object> params = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT ").append(columns("v")).append(" FROM vertices v WHERE ");
    boolean runs = "run".equals(collection);
    if (runs) {
      // A constant, so that the planner can use the partial indexes on run documents.
      sql.append("v.collection = 'run'");
    } else {
      sql.append("v.collection = ?");
      params.add(collection);
    }
    for (Condition cond : conditions) {
      sql.append(" AND ");
      appendCondition(sql, params, cond, runs);
    }
    SqlFilter f = new SqlFilter(SELF_ALIAS, params);
    if (filter != null) {
      sql.append(" AND ").append(f.compile(filter));
    }
    orderAndPage(sql, params, f, "v", order, after, limit);
    return query(sql.toString(), params, r -> vertexDoc(r, 0));
  }

  @Override
  public List<RunRow> searchRuns(String project, Expr filter, OrderSpec order, Cursor after, int limit) {
    List<Object> params = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT ").append(columns("r")).append(", ").append(columns("p"))
        .append(", ").append(columns("pf")).append(", ").append(columns("d")).append(", ").append(columns("f"))
        .append(", ").append(columns("m")).append(RUN_FROM).append(" WHERE r.collection = 'run'");
    if (!project.isEmpty()) {
      sql.append(" AND r.project = ?");
      params.add(project);
    }
    SqlFilter f = new SqlFilter(RUN_ALIASES, params);
    if (filter != null) {
      sql.append(" AND ").append(f.compile(filter));
    }
    orderAndPage(sql, params, f, "r", order, after, limit);
    return query(sql.toString(), params, r -> new RunRow(vertexDoc(r, 0), vertexDoc(r, 8), vertexDoc(r, 16),
        vertexDoc(r, 24), vertexDoc(r, 32), vertexDoc(r, 40)));
  }

  /** Appends the keyset condition, ORDER BY (missing values last, key breaks ties) and LIMIT. */
  private static void orderAndPage(StringBuilder sql, List<Object> params, SqlFilter f, String alias,
      OrderSpec order, Cursor after, int limit) {
    String key = alias + ".key";
    if (order.field() == null) {
      if (after != null) {
        sql.append(" AND ").append(key).append(order.descending() ? " < ?" : " > ?");
        params.add(after.key());
      }
      sql.append(" ORDER BY ").append(key).append(order.descending() ? " DESC" : "");
    } else {
      String cmp = order.descending() ? " < " : " > ";
      if (after != null) {
        if (after.value() == null) {
          sql.append(" AND (").append(f.valueExpr(order.field())).append(" IS NULL AND ").append(key)
              .append(" > ?)");
          params.add(after.key());
        } else {
          Object v = bindable(after.value());
          sql.append(" AND (").append(f.valueExpr(order.field())).append(" IS NULL OR ")
              .append(f.valueExpr(order.field())).append(cmp).append("? OR (")
              .append(f.valueExpr(order.field())).append(" = ? AND ").append(key).append(" > ?))");
          // The three value expressions' parameters were appended by valueExpr, in text order, but the
          // literal parameters must sit between them: rebuild the tail in text order.
          fixKeysetParams(params, order.field().isSystem(), v, after.key());
        }
      }
      String x = f.valueExpr(order.field());
      String x2 = f.valueExpr(order.field());
      sql.append(" ORDER BY (").append(x).append(" IS NULL), ").append(x2)
          .append(order.descending() ? " DESC" : "").append(", ").append(key);
    }
    sql.append(" LIMIT ?");
    params.add((long) limit);
  }

  /**
   * After three valueExpr calls, params ends with [p1, p2, p3] (one path each, none for system fields).
   * The text needs [p1, p2, v, p3, v, key].
   */
  private static void fixKeysetParams(List<Object> params, boolean system, Object v, String key) {
    if (system) {
      params.add(v);
      params.add(v);
      params.add(key);
      return;
    }
    int n = params.size();
    Object p3 = params.remove(n - 1);
    params.add(v);
    params.add(p3);
    params.add(v);
    params.add(key);
  }

  private static Object bindable(Object v) {
    if (v instanceof Boolean b) {
      return b ? 1L : 0L;
    }
    if (v instanceof Long || v instanceof Double || v instanceof String) {
      return v;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    return Json.write(v);
  }

  @Override
  public List<Aggregation.Row> aggregate(Aggregation.Query q) {
    boolean runs = q.collection() == null;
    List<Object> selectParams = new ArrayList<>();
    SqlFilter sel = new SqlFilter(runs ? RUN_ALIASES : SELF_ALIAS, selectParams);
    List<String> cols = new ArrayList<>();
    for (int i = 0; i < q.groupBy().size(); i++) {
      Aggregation.GroupKey g = q.groupBy().get(i);
      String expr;
      if (g.condition() != null) {
        expr = sel.compile(g.condition());
      } else {
        expr = sel.valueExpr(g.field());
        expr = bucket(expr, g.bucket(), g.field().isSystem());
      }
      cols.add(expr + " AS g" + i);
    }
    for (int i = 0; i < q.aggregates().size(); i++) {
      Aggregation.Aggregate a = q.aggregates().get(i);
      switch (a.function()) {
        case COUNT -> cols.add("count(*) AS a" + i);
        case COUNT_DISTINCT -> cols.add("count(DISTINCT " + sel.valueExpr(a.field()) + ") AS a" + i);
        case MIN, MAX, SUM -> cols.add(a.function().name().toLowerCase(java.util.Locale.ROOT) + "("
            + numeric(sel, a.field()) + ") AS a" + i);
        case MEAN -> cols.add("avg(" + numeric(sel, a.field()) + ") AS a" + i);
        case STDDEV -> {
          String x = numeric(sel, a.field());
          cols.add("count(" + x + ") AS a" + i);
          cols.add("sum(" + numeric(sel, a.field()) + ") AS s" + i);
          cols.add("sum(" + numeric(sel, a.field()) + " * " + numeric(sel, a.field()) + ") AS q" + i);
        }
      }
    }
    List<Object> params = new ArrayList<>(selectParams);
    StringBuilder sql = new StringBuilder("SELECT ").append(String.join(", ", cols));
    SqlFilter where = new SqlFilter(runs ? RUN_ALIASES : SELF_ALIAS, params);
    if (runs) {
      sql.append(RUN_FROM).append(" WHERE r.collection = 'run'");
      if (!q.project().isEmpty()) {
        sql.append(" AND r.project = ?");
        params.add(q.project());
      }
    } else {
      sql.append(" FROM vertices v WHERE v.collection = ?");
      params.add(q.collection());
      if (!q.project().isEmpty()) {
        sql.append(" AND v.project = ?");
        params.add(q.project());
      }
    }
    if (q.filter() != null) {
      sql.append(" AND ").append(where.compile(q.filter()));
    }
    if (!q.groupBy().isEmpty()) {
      sql.append(" GROUP BY ");
      for (int i = 0; i < q.groupBy().size(); i++) {
        sql.append(i > 0 ? ", " : "").append("g").append(i);
      }
    }
    sql.append(" ORDER BY ");
    if (q.orderByAggregate() >= 0) {
      sql.append("a").append(q.orderByAggregate()).append(" IS NULL, a").append(q.orderByAggregate())
          .append(q.descending() ? " DESC" : "");
      for (int i = 0; i < q.groupBy().size(); i++) {
        sql.append(", g").append(i);
      }
    } else if (!q.groupBy().isEmpty()) {
      for (int i = 0; i < q.groupBy().size(); i++) {
        sql.append(i > 0 ? ", " : "").append("g").append(i).append(q.descending() ? " DESC" : "");
      }
    } else {
      sql.append("1");
    }
    sql.append(" LIMIT ?");
    params.add((long) q.limit());
    int groups = q.groupBy().size();
    return query(sql.toString(), params, r -> {
      List<Object> keys = new ArrayList<>();
      for (int i = 0; i < groups; i++) {
        Aggregation.GroupKey g = q.groupBy().get(i);
        Object k = r.getObject(i + 1);
        if (g.condition() != null) {
          k = k == null ? Boolean.FALSE : ((Number) k).longValue() != 0;
        }
        keys.add(sqlValue(k));
      }
      List<Object> values = new ArrayList<>();
      int col = groups + 1;
      for (Aggregation.Aggregate a : q.aggregates()) {
        if (a.function() == Aggregation.Function.STDDEV) {
          long n = r.getLong(col);
          double sum = r.getDouble(col + 1);
          double sq = r.getDouble(col + 2);
          col += 3;
          values.add(n < 2 ? null : Math.sqrt(Math.max(0, (sq - sum * sum / n) / (n - 1))));
        } else {
          values.add(sqlValue(r.getObject(col++)));
        }
      }
      return new Aggregation.Row(keys, values);
    });
  }

  private static Object sqlValue(Object o) {
    if (o instanceof Integer i) {
      return i.longValue();
    }
    if (o instanceof Float f) {
      return f.doubleValue();
    }
    return o;
  }

  private static String numeric(SqlFilter sel, Bound field) {
    return sel.numericExpr(field);
  }

  private static String bucket(String expr, Aggregation.Bucket b, boolean systemTime) {
    if (b == null || b == Aggregation.Bucket.NONE) {
      return expr;
    }
    if (systemTime) {
      String fmt = switch (b) {
        case DAY -> "%Y-%m-%d";
        case MONTH -> "%Y-%m";
        default -> "%Y";
      };
      return "strftime('" + fmt + "', " + expr + " / 1000000, 'unixepoch')";
    }
    int len = switch (b) {
      case DAY -> 10;
      case MONTH -> 7;
      default -> 4;
    };
    return "substr(" + expr + ", 1, " + len + ")";
  }

  @Override
  public List<HistoryRecord> history(EntityId id, long afterSeq, int limit) {
    return query("SELECT seq, entity_id, time, actor, action, changes FROM history WHERE entity_id = ? AND seq > ?"
            + " ORDER BY seq LIMIT ?", params(id.toString(), afterSeq, (long) limit), SqliteTx::historyRecord);
  }

  private static HistoryRecord historyRecord(ResultSet r) throws SQLException {
    return new HistoryRecord(r.getLong(1), EntityId.of(r.getString(2)), instant(r.getLong(3)), r.getString(4),
        r.getString(5), Json.parseObject(r.getString(6)));
  }

  private static RequestRecord requestRecord(ResultSet r) throws SQLException {
    return new RequestRecord(r.getString(1), r.getString(2), r.getString(3), r.getString(4), instant(r.getLong(5)));
  }

  @Override
  public Optional<RequestRecord> request(String requestId) {
    return query("SELECT request_id, operation, fingerprint, result, create_time FROM requests WHERE request_id = ?",
        List.of(requestId), SqliteTx::requestRecord).stream().findFirst();
  }

  @Override
  public List<EdgeDoc> scanEdges(String collection, String afterKey, int limit) {
    // The primary key (collection, key) serves both the range and the order.
    return query("SELECT " + EDGE_COLUMNS + " FROM edges WHERE collection = ? AND key > ? ORDER BY key LIMIT ?",
        params(collection, afterKey, (long) limit), SqliteTx::edgeDoc);
  }

  @Override
  public List<HistoryRecord> scanHistory(long afterSeq, int limit) {
    return query("SELECT seq, entity_id, time, actor, action, changes FROM history WHERE seq > ? ORDER BY seq LIMIT ?",
        params(afterSeq, (long) limit), SqliteTx::historyRecord);
  }

  @Override
  public List<RequestRecord> scanRequests(String afterId, int limit) {
    return query("SELECT request_id, operation, fingerprint, result, create_time FROM requests WHERE request_id > ?"
        + " ORDER BY request_id LIMIT ?", params(afterId, (long) limit), SqliteTx::requestRecord);
  }

  // ---- writes ------------------------------------------------------------------------------------

  @Override
  public void insertVertex(VertexDoc v) {
    requireWritable();
    requireType(v.id().collection(), CollectionDef.Kind.VERTEX);
    // The single writer makes checking first redundant: insert, and only when a unique index refuses the
    // row find out which document is in the way (the same checks, in the same order, as before).
    if (!insertRow(VERTICES.insertOne(), vertexParams(v))) {
      throw vertexConflict(v);
    }
  }

  /** A table documents are inserted into: its name, its columns, and the INSERT of one row. */
  private record Table(String name, String columns, String insertOne) {
    Table(String name, String columns) {
      this(name, columns, "INSERT INTO " + name + "(" + columns + ") VALUES ("
          + String.join(", ", java.util.Collections.nCopies(columns.split(",").length, "?")) + ")");
    }
  }

  private static final Table VERTICES = new Table("vertices", VERTEX_COLUMNS);
  private static final Table EDGES = new Table("edges", EDGE_COLUMNS);

  private static List<Object> vertexParams(VertexDoc v) {
    return params(v.id().collection(), v.id().key(), v.name(), v.project(), Json.write(v.doc()),
        micros(v.createTime()), micros(v.updateTime()), v.creator());
  }

  private static List<Object> edgeParams(EdgeDoc e) {
    return params(e.id().collection(), e.id().key(), e.from().toString(), e.to().toString(),
        e.doc().isEmpty() ? "{}" : Json.write(e.doc()), micros(e.createTime()), e.creator());
  }

  /** What is in the way of a vertex a unique index refused. */
  private RuntimeException vertexConflict(VertexDoc v) {
    if (vertex(v.id()).isPresent()) {
      return new AlreadyExistsException(v.id().toString(), "a document with id " + v.id() + " already exists");
    }
    if (v.name() != null) {
      List<String> clash = query("SELECT key FROM vertices WHERE collection = ? AND name = ? AND project = ?",
          List.of(v.id().collection(), v.name(), v.project()), r -> r.getString(1));
      if (!clash.isEmpty()) {
        String existing = new EntityId(v.id().collection(), clash.get(0)).toString();
        return new AlreadyExistsException(existing, v.id().collection() + " named \"" + v.name() + "\""
            + (v.project().isEmpty() ? "" : " in project \"" + v.project() + "\"") + " already exists: " + existing);
      }
    }
    return new SqliteFailure(new SQLException("a unique index refused " + v.id() + " but nothing is in its way"));
  }

  /** What is in the way of an edge a unique index refused. */
  private RuntimeException edgeConflict(EdgeDoc e) {
    if (edge(e.id()).isPresent()) {
      return new AlreadyExistsException(e.id().toString(), "an edge with id " + e.id() + " already exists");
    }
    Optional<EdgeDoc> same = edgeBetween(e.id().collection(), e.from(), e.to());
    if (same.isPresent()) {
      return new AlreadyExistsException(same.get().id().toString(),
          "an edge of " + e.id().collection() + " from " + e.from() + " to " + e.to() + " already exists");
    }
    return new SqliteFailure(new SQLException("a unique index refused " + e.id() + " but nothing is in its way"));
  }

  @Override
  public void insertVertices(List<VertexDoc> vs) {
    requireWritable();
    for (VertexDoc v : vs) {
      requireType(v.id().collection(), CollectionDef.Kind.VERTEX);
    }
    List<List<Object>> rows = new ArrayList<>(vs.size());
    for (VertexDoc v : vs) {
      rows.add(vertexParams(v));
    }
    insertAllOrNone(VERTICES, rows, i -> vertexConflict(vs.get(i)));
  }

  @Override
  public void insertEdges(List<EdgeDoc> es) {
    requireWritable();
    for (EdgeDoc e : es) {
      requireType(e.id().collection(), CollectionDef.Kind.EDGE);
    }
    List<List<Object>> rows = new ArrayList<>(es.size());
    for (EdgeDoc e : es) {
      rows.add(edgeParams(e));
    }
    insertAllOrNone(EDGES, rows, i -> edgeConflict(es.get(i)));
  }

  /**
   * Inserts every row or none. Up to {@link #ONE_STATEMENT_ROWS} rows go one single-row INSERT each; more
   * go as multi-row INSERTs inside a savepoint (see {@link #bulkInsert}). If a unique index refuses a row,
   * whatever this call inserted is undone and {@code conflict} of the first refused row (by index in
   * {@code rows}) is thrown, as if the rows had been inserted one by one.
   *
   * @param table {@code vertices} or {@code edges}: both are keyed by (collection, key), the first two
   *     values of each row
   */
  private void insertAllOrNone(Table table, List<List<Object>> rows,
      java.util.function.IntFunction<RuntimeException> conflict) {
    if (rows.isEmpty()) {
      return;
    }
    if (rows.size() <= ONE_STATEMENT_ROWS) {
      insertEachOrNone(table, rows, conflict);
      return;
    }
    // Values that every row shares (a batch's collection, project, creator, times) are bound once.
    int width = rows.get(0).size();
    boolean[] shared = new boolean[width];
    List<Object> sharedValues = new ArrayList<>(width);
    for (int c = 0; c < width; c++) {
      Object v = rows.get(0).get(c);
      shared[c] = c != 1; // the key (column 1) differs between rows, and keeps the VALUES list non-empty
      for (int j = 1; j < rows.size() && shared[c]; j++) {
        Object w = rows.get(j).get(c);
        shared[c] = v == w || v != null && v.equals(w);
      }
      if (shared[c]) {
        sharedValues.add(v);
      }
    }
    update("SAVEPOINT bulk", List.of());
    boolean ok = true;
    int i = 0;
    while (i < rows.size() && ok) {
      int n = MAX_ROWS_PER_INSERT;
      while (n > rows.size() - i) {
        n >>= 1;
      }
      List<Object> params = new ArrayList<>(sharedValues.size() + n * (width - sharedValues.size()));
      params.addAll(sharedValues);
      for (int j = i; j < i + n; j++) {
        List<Object> r = rows.get(j);
        for (int c = 0; c < width; c++) {
          if (!shared[c]) {
            params.add(r.get(c));
          }
        }
      }
      ok = insertRow(bulkInsert(table, shared, n), params);
      i += n;
    }
    if (!ok) {
      update("ROLLBACK TO bulk", List.of());
    }
    update("RELEASE bulk", List.of());
    if (!ok) {
      // Row by row, to find the first one in the way (and undo the rest).
      insertEachOrNone(table, rows, conflict);
    }
  }

  /** The texts of {@link #bulkInsert}: a few per table (row counts are powers of two; few sharing patterns). */
  private static final java.util.concurrent.ConcurrentHashMap<String, String> BULK_INSERTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * A multi-row INSERT of {@code n} rows: {@code INSERT INTO t(a, b, c) SELECT ?1, column1, column2 FROM
   * (VALUES (?2, ?3), (?4, ?5), ...)}. A shared column is bound once (parameters 1 to s, in column order),
   * the others once per row in the VALUES list: a stream's batch of 500 serving measurements binds 4
   * values per measurement instead of 15, each bind a JNI call and a copy.
   */
  private static String bulkInsert(Table table, boolean[] shared, int n) {
    StringBuilder key = new StringBuilder(table.name()).append(n).append(':');
    for (boolean b : shared) {
      key.append(b ? '1' : '0');
    }
    return BULK_INSERTS.computeIfAbsent(key.toString(), k -> {
      StringBuilder sql = new StringBuilder("INSERT INTO ").append(table.name()).append('(').append(table.columns())
          .append(") SELECT ");
      int param = 0;
      int column = 0;
      for (int c = 0; c < shared.length; c++) {
        sql.append(c == 0 ? "" : ", ").append(shared[c] ? "?" + ++param : "column" + ++column);
      }
      sql.append(" FROM (VALUES ");
      for (int r = 0; r < n; r++) {
        sql.append(r == 0 ? "(" : ", (");
        for (int c = 0; c < column; c++) {
          sql.append(c == 0 ? "?" : ", ?").append(++param);
        }
        sql.append(')');
      }
      return sql.append(')').toString();
    });
  }

  /**
   * Inserts the rows with one single-row INSERT each (no statement journal). If a unique index refuses a
   * row, the rows this call inserted before it are deleted again and its {@code conflict} is thrown.
   */
  private void insertEachOrNone(Table table, List<List<Object>> rows,
      java.util.function.IntFunction<RuntimeException> conflict) {
    for (int i = 0; i < rows.size(); i++) {
      if (!insertRow(table.insertOne(), rows.get(i))) {
        // What is in the way, found while the rows before it are still there (one of them may be).
        RuntimeException e = conflict.apply(i);
        String delete = "DELETE FROM " + table.name() + " WHERE collection = ? AND key = ?";
        for (int j = 0; j < i; j++) {
          update(delete, rows.get(j).subList(0, 2));
        }
        throw e;
      }
    }
  }

  @Override
  public void replaceVertex(VertexDoc v) {
    requireWritable();
    int n = update("UPDATE vertices SET doc = ?, update_time = ? WHERE collection = ? AND key = ?",
        params(Json.write(v.doc()), micros(v.updateTime()), v.id().collection(), v.id().key()));
    if (n == 0) {
      throw new NotFoundException(v.id().toString(), "no document has id " + v.id());
    }
  }

  @Override
  public void insertEdge(EdgeDoc e) {
    requireWritable();
    requireType(e.id().collection(), CollectionDef.Kind.EDGE);
    if (!insertRow(EDGES.insertOne(), edgeParams(e))) {
      throw edgeConflict(e);
    }
  }

  @Override
  public void putCollection(CollectionDef d) {
    requireWritable();
    if (collectionCache != null) {
      collectionCache.clear();
    }
    update("INSERT INTO collections(name, kind, builtin, flow, from_types, to_types, ordinal)"
            + " VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(ordinal), 0) + 1 FROM collections))"
            + " ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, builtin = excluded.builtin,"
            + " flow = excluded.flow, from_types = excluded.from_types, to_types = excluded.to_types",
        params(d.name(), d.kind().name(), d.builtin() ? 1L : 0L, d.flow().name(), Json.write(d.fromTypes()),
            Json.write(d.toTypes())));
  }

  @Override
  public long dropCollection(String name) {
    requireWritable();
    if (collectionCache != null) {
      collectionCache.clear();
    }
    long n = update("DELETE FROM vertices WHERE collection = ?", params(name));
    n += update("DELETE FROM edges WHERE collection = ?", params(name));
    update("DELETE FROM collections WHERE name = ?", params(name));
    return n;
  }

  @Override
  public void appendHistory(HistoryRecord h) {
    requireWritable();
    update("INSERT INTO history(entity_id, time, actor, action, changes) VALUES (?, ?, ?, ?, ?)",
        params(h.id().toString(), micros(h.time()), h.actor(), h.action(), Json.write(h.changes())));
  }

  @Override
  public void putRequest(RequestRecord r) {
    requireWritable();
    update("INSERT INTO requests(request_id, operation, fingerprint, result, create_time) VALUES (?, ?, ?, ?, ?)",
        params(r.requestId(), r.operation(), r.fingerprint(), r.result(), micros(r.createTime())));
  }

  private void requireWritable() {
    if (!writable) {
      throw new IllegalStateException("write in a read-only transaction");
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  @FunctionalInterface
  private interface RowMapper<T> {
    T map(ResultSet r) throws SQLException;
  }

  private static List<Object> params(Object... values) {
    return java.util.Arrays.asList(values);
  }

  private <T> List<T> query(String sql, List<?> params, RowMapper<T> mapper) {
    try {
      PreparedStatement p = statements.get(sql);
      bind(p, params);
      try (ResultSet r = p.executeQuery()) {
        List<T> out = new ArrayList<>();
        while (r.next()) {
          out.add(mapper.map(r));
        }
        return out;
      }
    } catch (SQLException e) {
      statements.evict(sql);
      throw new SqliteFailure(e);
    }
  }

  /**
   * Runs an INSERT; false (and nothing inserted) when a PRIMARY KEY or UNIQUE constraint refuses it. The
   * failed statement alone is undone (SQLite's default ABORT); the transaction goes on.
   */
  private boolean insertRow(String sql, List<?> params) {
    try {
      PreparedStatement p = statements.get(sql);
      bind(p, params);
      p.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (e instanceof org.sqlite.SQLiteException se && isUniqueViolation(se.getResultCode())) {
        return false;
      }
      statements.evict(sql);
      throw new SqliteFailure(e);
    }
  }

  private static boolean isUniqueViolation(org.sqlite.SQLiteErrorCode code) {
    return code == org.sqlite.SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY
        || code == org.sqlite.SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE;
  }

  private int update(String sql, List<?> params) {
    try {
      PreparedStatement p = statements.get(sql);
      bind(p, params);
      return p.executeUpdate();
    } catch (SQLException e) {
      statements.evict(sql);
      throw new SqliteFailure(e);
    }
  }

  private static void bind(PreparedStatement p, List<?> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      Object v = params.get(i);
      if (v == null) {
        p.setNull(i + 1, java.sql.Types.NULL);
      } else if (v instanceof String s) {
        p.setString(i + 1, s);
      } else if (v instanceof Long l) {
        p.setLong(i + 1, l);
      } else if (v instanceof Double d) {
        p.setDouble(i + 1, d);
      } else {
        throw new IllegalArgumentException("cannot bind " + v.getClass());
      }
    }
  }

  private static String placeholders(int n) {
    return String.join(", ", java.util.Collections.nCopies(n, "?"));
  }

  private static CollectionDef collectionDef(ResultSet r) throws SQLException {
    return new CollectionDef(r.getString(1), CollectionDef.Kind.valueOf(r.getString(2)), r.getLong(3) == 1,
        CollectionDef.Flow.valueOf(r.getString(4)), strings(r.getString(5)), strings(r.getString(6)));
  }

  private static List<String> strings(String json) {
    return Json.parseList(json).stream().map(String::valueOf).toList();
  }

  private static VertexDoc vertexDoc(ResultSet r) throws SQLException {
    return vertexDoc(r, 0);
  }

  /** The vertex in the eight columns after {@code offset}; null when a LEFT JOIN found none. */
  private static VertexDoc vertexDoc(ResultSet r, int offset) throws SQLException {
    String collection = r.getString(offset + 1);
    if (collection == null) {
      return null;
    }
    return new VertexDoc(new EntityId(collection, r.getString(offset + 2)), r.getString(offset + 3),
        r.getString(offset + 4), Json.parseObject(r.getString(offset + 5)), instant(r.getLong(offset + 6)),
        instant(r.getLong(offset + 7)), r.getString(offset + 8));
  }

  private static EdgeDoc edgeDoc(ResultSet r) throws SQLException {
    return new EdgeDoc(new EntityId(r.getString(1), r.getString(2)), EntityId.of(r.getString(3)),
        EntityId.of(r.getString(4)), Json.parseObject(r.getString(5)), instant(r.getLong(6)), r.getString(7));
  }

  static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }
}
