package io.arangopipe.server.core;

import io.arangopipe.server.core.Views.DeploymentView;
import io.arangopipe.server.core.Views.Page;
import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.Binder;
import io.arangopipe.server.query.Cursor;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.FilterParser;
import io.arangopipe.server.query.FilterSyntaxException;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.query.Ref;
import io.arangopipe.server.query.RunRow;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.Field;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.ReadTx;
import io.arangopipe.server.store.Times;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The questions the product exists to answer, written once for every store: run search with the filter
 * language, aggregates, a run's recipe, impact analysis, serving against development performance, and
 * an entity's history. Every method reads one consistent snapshot.
 */
public final class Analytics {
  public static final int MAX_GROUPS = 10_000;
  public static final int MAX_GROUP_KEYS = 8;
  public static final int MAX_AGGREGATES = 16;
  public static final int DEFAULT_SERVING_POINTS = 100;
  public static final int MAX_SERVING_POINTS = 10_000;

  private final GraphStore store;
  private final MetadataCore core;

  public Analytics(GraphStore store, MetadataCore core) {
    this.store = store;
    this.core = core;
  }

  // ---- parsing ------------------------------------------------------------------------------------

  /** Parses and binds a filter; blank means none. @throws InvalidArgumentException naming the field */
  static Expr filter(String field, String text, Binder.Context ctx) {
    try {
      return Binder.bind(FilterParser.parse(text), ctx);
    } catch (FilterSyntaxException e) {
      throw new InvalidArgumentException(field, e.getMessage());
    }
  }

  static OrderSpec orderBy(String field, String text, Binder.Context ctx) {
    if (text == null || text.isBlank()) {
      return OrderSpec.BY_KEY;
    }
    try {
      Map.Entry<Ref, Boolean> o = FilterParser.parseOrderBy(text);
      Ref.Bound f = Binder.ref(o.getKey(), ctx);
      if (f.system() == Ref.SystemField.KEY) {
        return new OrderSpec(null, o.getValue());
      }
      return new OrderSpec(f, o.getValue());
    } catch (FilterSyntaxException e) {
      throw new InvalidArgumentException(field, e.getMessage());
    }
  }

  /** The value a row has for the order field, as the stores compare it. */
  static Object orderValue(OrderSpec order, VertexDoc v) {
    if (order.field() == null || v == null) {
      return null;
    }
    Ref.Bound f = order.field();
    if (f.isSystem()) {
      return switch (f.system()) {
        case ID -> v.id().toString();
        case KEY -> v.id().key();
        case NAME -> v.name();
        case PROJECT -> v.project();
        case CREATE_TIME -> micros(v.createTime());
        case UPDATE_TIME -> micros(v.updateTime());
        case CREATOR -> v.creator();
      };
    }
    Object cur = v.doc();
    for (String seg : f.path()) {
      if (!(cur instanceof Map<?, ?> m) || !m.containsKey(seg)) {
        return null;
      }
      cur = m.get(seg);
    }
    return cur;
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  private static String token(String hash, Object value, String key) {
    return PageTokens.encode(hash, Json.write(value), key);
  }

  private static Cursor cursor(String token, String hash) {
    PageTokens.Position pos = PageTokens.decode(token, hash);
    if (pos == null) {
      return null;
    }
    Object value;
    try {
      value = Json.normalize(new com.fasterxml.jackson.databind.ObjectMapper().readValue(pos.after(), Object.class));
    } catch (Exception e) {
      throw new InvalidArgumentException("page_token", "is not a token this server issued");
    }
    return new Cursor(value, pos.afterKey());
  }

  // ---- visibility ----------------------------------------------------------------------------------

  /** The filter, narrowed to entities whose project the caller may read (entity queries). */
  static Expr visibleTo(Principal who, Expr filter) {
    return narrow(who, filter, Ref.Source.SELF);
  }

  /** The filter, narrowed to runs whose project the caller may read. */
  static Expr runsVisibleTo(Principal who, Expr filter) {
    return narrow(who, filter, Ref.Source.RUN);
  }

  private static Expr narrow(Principal who, Expr filter, Ref.Source source) {
    java.util.Set<String> readable = who.readableProjects();
    if (readable == null) {
      return filter;
    }
    List<io.arangopipe.server.query.Literal> projects = new ArrayList<>();
    projects.add(new io.arangopipe.server.query.Literal.Str(""));
    readable.forEach(p -> projects.add(new io.arangopipe.server.query.Literal.Str(p)));
    Expr visible = new Expr.In(Ref.Bound.system(source, Ref.SystemField.PROJECT), projects);
    return filter == null ? visible : new Expr.And(List.of(filter, visible));
  }

  // ---- entity lists with filters ------------------------------------------------------------------

  /**
   * A type's entities matching a filter, in the requested order, a page at a time.
   *
   * @throws InvalidArgumentException bad type name, filter, order or token (the message names the position)
   * @throws NotFoundException no such type
   */
  public Page<VertexDoc> listEntities(Principal who, String collection, String project, String filterText, String orderText,
      List<Condition> extra, int pageSize, String pageToken) {
    Validate.typeName("collection", collection);
    Expr filter = filter("filter", filterText, Binder.Context.ENTITIES);
    OrderSpec order = orderBy("order_by", orderText, Binder.Context.ENTITIES);
    int size = PageTokens.pageSize(pageSize);
    String p = project == null ? "" : project;
    if (!p.isEmpty()) {
      who.requireRead(p, collection);
    }
    Expr narrowed = visibleTo(who, filter);
    List<Condition> conds = new ArrayList<>(extra);
    if (!p.isEmpty()) {
      conds.add(new Condition(new Field.Project(), p));
    }
    String hash = PageTokens.queryHash("entities", collection, p, filterText, orderText, conds.toString());
    Cursor after = cursor(pageToken, hash);
    List<VertexDoc> rows = store.read(tx -> {
      MetadataCore.requireVertexTypeOf(tx, collection, "collection");
      return tx.searchVertices(collection, conds, narrowed, order, after, size + 1);
    });
    if (rows.size() <= size) {
      return new Page<>(rows, "");
    }
    List<VertexDoc> items = List.copyOf(rows.subList(0, size));
    VertexDoc last = items.get(size - 1);
    return new Page<>(items, token(hash, orderValue(order, last), last.id().key()));
  }

  /**
   * The entities of a type whose attribute equals a value, with an optional further filter and order.
   *
   * @throws InvalidArgumentException bad type, path, value, filter, order or token
   * @throws NotFoundException no such type
   */
  public Page<VertexDoc> findEntities(Principal who, String collection, String attribute, Object value, String project,
      String filterText, String orderText, int pageSize, String pageToken) {
    List<String> path = Validate.attributePath("attribute", attribute);
    Field field = path.size() == 1 && path.get(0).equals("name") ? new Field.Name()
        : path.size() == 1 && path.get(0).equals("project") ? new Field.Project()
        : path.size() == 1 && path.get(0).equals("_key") ? new Field.Key()
        : new Field.Doc(path);
    Object v;
    try {
      v = Json.normalize(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException("value", e.getMessage());
    }
    if (v instanceof Map || v instanceof List) {
      throw new InvalidArgumentException("value", "must be a string, number, boolean or null");
    }
    return listEntities(who, collection, project, filterText, orderText, List.of(new Condition(field, v)),
        pageSize, pageToken);
  }

  // ---- runs ----------------------------------------------------------------------------------------

  /**
   * The runs of a project ("" = every project) with their dataset, featureset, model, params and
   * performance, filtered and ordered by any of their fields, a page at a time (keyset tokens).
   */
  public Page<RunRow> searchRuns(Principal who, String project, String filterText, String orderText, int pageSize,
      String pageToken) {
    String p = Validate.optionalProject("project", project);
    Expr filter = filter("filter", filterText, Binder.Context.RUNS);
    OrderSpec order = orderBy("order_by", orderText, Binder.Context.RUNS);
    int size = PageTokens.pageSize(pageSize);
    String hash = PageTokens.queryHash("runs", p, filterText, orderText);
    Cursor after = cursor(pageToken, hash);
    if (!p.isEmpty()) {
      who.requireRead(p, "runs");
    }
    Expr narrowed = runsVisibleTo(who, filter);
    List<RunRow> rows = store.read(tx -> tx.searchRuns(p, narrowed, order, after, size + 1));
    if (rows.size() <= size) {
      return new Page<>(rows, "");
    }
    List<RunRow> items = List.copyOf(rows.subList(0, size));
    RunRow last = items.get(size - 1);
    return new Page<>(items, token(hash, orderValue(order, pick(order, last)), last.run().id().key()));
  }

  private static VertexDoc pick(OrderSpec order, RunRow row) {
    if (order.field() == null) {
      return row.run();
    }
    return switch (order.field().source()) {
      case RUN, SELF -> row.run();
      case DATASET -> row.dataset();
      case FEATURESET -> row.featureset();
      case MODEL -> row.model();
      case MODELPARAMS -> row.modelParams();
      case DEVPERF -> row.devPerf();
    };
  }

  // ---- aggregates ------------------------------------------------------------------------------------

  /** A group key as requested: a field with a time bucket, or a condition. */
  public record GroupSpec(String field, Aggregation.Bucket bucket, String condition) {}

  /** An aggregate as requested; field is empty for COUNT. */
  public record AggregateSpec(Aggregation.Function function, String field) {}

  /** The answer: one row per group, and whether the group limit cut it. */
  public record AggregateResult(List<String> groupColumns, List<String> aggregateColumns,
      List<Aggregation.Row> rows, boolean truncated) {}

  /**
   * Groups runs (collection null) or a type's entities and computes aggregates over each group.
   *
   * @throws InvalidArgumentException bad fields, filter or limits
   */
  public AggregateResult aggregate(Principal who, String collection, String project, String filterText, List<GroupSpec> groups,
      List<AggregateSpec> aggregates, int orderByAggregate, boolean descending, int limit) {
    Binder.Context ctx = collection == null ? Binder.Context.RUNS : Binder.Context.ENTITIES;
    if (collection != null) {
      Validate.typeName("collection", collection);
    }
    String p = project == null ? "" : project;
    if (!p.isEmpty()) {
      who.requireRead(p, collection == null ? "runs" : collection);
    }
    Expr filter = collection == null ? runsVisibleTo(who, filter("filter", filterText, ctx))
        : visibleTo(who, filter("filter", filterText, ctx));
    if (groups.size() > MAX_GROUP_KEYS) {
      throw new InvalidArgumentException("group_by", "takes at most " + MAX_GROUP_KEYS + " keys");
    }
    if (aggregates.isEmpty() || aggregates.size() > MAX_AGGREGATES) {
      throw new InvalidArgumentException("aggregates", "must have 1 to " + MAX_AGGREGATES + " entries");
    }
    List<Aggregation.GroupKey> keys = new ArrayList<>();
    List<String> groupColumns = new ArrayList<>();
    for (int i = 0; i < groups.size(); i++) {
      GroupSpec g = groups.get(i);
      String field = "group_by[" + i + "]";
      boolean hasField = g.field() != null && !g.field().isEmpty();
      boolean hasCondition = g.condition() != null && !g.condition().isEmpty();
      if (hasField == hasCondition) {
        throw new InvalidArgumentException(field, "give exactly one of field and condition");
      }
      if (hasCondition) {
        Expr cond = filter(field + ".condition", g.condition(), ctx);
        keys.add(new Aggregation.GroupKey(null, Aggregation.Bucket.NONE, cond));
        groupColumns.add(g.condition());
      } else {
        Ref.Bound f = boundField(field + ".field", g.field(), ctx);
        keys.add(new Aggregation.GroupKey(f, g.bucket() == null ? Aggregation.Bucket.NONE : g.bucket(), null));
        groupColumns.add(g.bucket() == null || g.bucket() == Aggregation.Bucket.NONE ? g.field()
            : g.field() + " by " + g.bucket().name().toLowerCase(java.util.Locale.ROOT));
      }
    }
    List<Aggregation.Aggregate> aggs = new ArrayList<>();
    List<String> aggColumns = new ArrayList<>();
    for (int i = 0; i < aggregates.size(); i++) {
      AggregateSpec a = aggregates.get(i);
      String field = "aggregates[" + i + "]";
      if (a.function() == null) {
        throw new InvalidArgumentException(field + ".function", "is required");
      }
      if (a.function() == Aggregation.Function.COUNT) {
        aggs.add(new Aggregation.Aggregate(a.function(), null));
        aggColumns.add("count");
        continue;
      }
      if (a.field() == null || a.field().isEmpty()) {
        throw new InvalidArgumentException(field + ".field", "is required for " + a.function());
      }
      Ref.Bound f = boundField(field + ".field", a.field(), ctx);
      aggs.add(new Aggregation.Aggregate(a.function(), f));
      aggColumns.add(a.function().name().toLowerCase(java.util.Locale.ROOT) + "(" + a.field() + ")");
    }
    if (orderByAggregate < -1 || orderByAggregate >= aggs.size()) {
      throw new InvalidArgumentException("order_by_aggregate", "must name one of the aggregates (0-"
          + (aggs.size() - 1) + "), or be -1 for group order");
    }
    int max = limit <= 0 ? 1000 : Math.min(limit, MAX_GROUPS);
    List<Aggregation.Row> rows = store.read(tx -> {
      if (collection != null) {
        MetadataCore.requireVertexTypeOf(tx, collection, "collection");
      }
      return tx.aggregate(new Aggregation.Query(collection, p, filter, keys, aggs, orderByAggregate, descending,
          max + 1));
    });
    boolean truncated = rows.size() > max;
    return new AggregateResult(groupColumns, aggColumns, truncated ? rows.subList(0, max) : rows, truncated);
  }

  private static Ref.Bound boundField(String field, String text, Binder.Context ctx) {
    try {
      return Binder.ref(FilterParser.parseField(text), ctx);
    } catch (FilterSyntaxException e) {
      throw new InvalidArgumentException(field, e.getMessage());
    }
  }

  // ---- a run's recipe ---------------------------------------------------------------------------------

  /** Everything needed to redo a run. */
  public record RunRecipe(Views.RunView run, VertexDoc dataset, VertexDoc featureset, VertexDoc featuresetDataset,
      VertexDoc model, VertexDoc project) {}

  /** @throws NotFoundException no such run */
  public RunRecipe runRecipe(Principal who, String runId) {
    String key = Validate.key("run_id", runId);
    return store.read(tx -> {
      VertexDoc run = MetadataCore.readable(who, tx.vertex(new EntityId(Schema.RUN, key)).orElseThrow(
          () -> new NotFoundException("run/" + key, "run_id: no run has run_id \"" + key + "\"")), "run_id");
      Views.RunView rv = core.loadRun(tx, run);
      VertexDoc fs = rv.featureset() == null ? null : tx.vertex(rv.featureset()).orElse(null);
      VertexDoc fsDataset = null;
      if (fs != null) {
        for (EdgeDoc e : tx.edgesOf(List.of(fs.id()), true, 100)) {
          if (e.id().collection().equals(Schema.FEATURESET_DATASET)) {
            fsDataset = tx.vertex(e.to()).orElse(null);
          }
        }
      }
      VertexDoc project = null;
      if (!run.project().isEmpty()) {
        List<VertexDoc> found = tx.findVertices(new VertexQuery(Schema.PROJECT,
            List.of(new Condition(new Field.Name(), run.project())), VertexQuery.Order.KEY, null, null, 1));
        project = found.isEmpty() ? null : found.get(0);
      }
      return new RunRecipe(rv, rv.dataset() == null ? null : tx.vertex(rv.dataset()).orElse(null), fs, fsDataset,
          rv.model() == null ? null : tx.vertex(rv.model()).orElse(null), project);
    });
  }

  // ---- impact and serving -------------------------------------------------------------------------------

  /** A deployment downstream of an entity, how far, and its latest serving performance. */
  public record Impact(DeploymentView deployment, VertexDoc latestServingPerf, int distance) {}

  /** The answer to "which deployments are affected": every deployment downstream of the entity. */
  public record ImpactResult(List<Impact> deployments, boolean truncated) {}

  /** @throws NotFoundException the entity does not exist */
  public ImpactResult impact(Principal who, String entityId) {
    Views.Lineage l = core.lineage(who, entityId, Views.Direction.DOWNSTREAM, MetadataCore.MAX_DEPTH,
        MetadataCore.MAX_NODES, List.of(), List.of());
    return store.read(tx -> {
      List<Impact> out = new ArrayList<>();
      Map<EntityId, Integer> distance = distances(l);
      for (VertexDoc v : l.nodes()) {
        if (v.id().collection().equals(Schema.DEPLOYMENT)) {
          VertexDoc dep = tx.vertex(v.id()).orElse(null);
          if (dep != null) {
            List<VertexDoc> serving = servingPerf(tx, dep, 1);
            out.add(new Impact(core.loadDeployment(tx, dep), serving.isEmpty() ? null : serving.get(0),
                distance.getOrDefault(v.id(), -1)));
          }
        }
      }
      return new ImpactResult(out, l.truncated());
    });
  }

  private static Map<EntityId, Integer> distances(Views.Lineage l) {
    Map<EntityId, Integer> d = new java.util.HashMap<>();
    if (l.nodes().isEmpty()) {
      return d;
    }
    EntityId start = l.nodes().get(0).id();
    d.put(start, 0);
    Map<EntityId, List<EntityId>> adj = new java.util.HashMap<>();
    for (EdgeDoc e : l.edges()) {
      adj.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e.to());
      adj.computeIfAbsent(e.to(), k -> new ArrayList<>()).add(e.from());
    }
    java.util.ArrayDeque<EntityId> q = new java.util.ArrayDeque<>(List.of(start));
    while (!q.isEmpty()) {
      EntityId cur = q.poll();
      for (EntityId n : adj.getOrDefault(cur, List.of())) {
        if (!d.containsKey(n)) {
          d.put(n, d.get(cur) + 1);
          q.add(n);
        }
      }
    }
    return d;
  }

  /** A deployment's serving performance, newest first, at most {@code limit}. */
  private static List<VertexDoc> servingPerf(ReadTx tx, VertexDoc dep, int limit) {
    List<EntityId> ids = new ArrayList<>();
    for (EdgeDoc e : tx.edgesOf(List.of(dep.id()), true, 1_000_000)) {
      if (e.id().collection().equals(Schema.DEPLOYMENT_SERVINGPERF)) {
        ids.add(e.to());
      }
    }
    List<VertexDoc> docs = new ArrayList<>(tx.vertices(ids).values());
    docs.sort(Comparator.comparing((VertexDoc v) -> String.valueOf(v.doc().get("time"))).reversed()
        .thenComparing(v -> v.id().key(), Comparator.reverseOrder()));
    return docs.size() > limit ? docs.subList(0, limit) : docs;
  }

  /** A deployment's serving performance over time beside the dev performance of the run it came from. */
  public record ServingVsDev(DeploymentView deployment, VertexDoc devPerf, List<VertexDoc> serving) {}

  /**
   * Per deployment (of a project, or the one with the tag), its newest serving measurements (oldest first)
   * and the dev performance of its run.
   */
  public List<ServingVsDev> servingVsDev(Principal who, String project, String deploymentTag, int maxPoints) {
    int points = maxPoints == 0 ? DEFAULT_SERVING_POINTS : maxPoints;
    if (points < 1 || points > MAX_SERVING_POINTS) {
      throw new InvalidArgumentException("max_points", "must be between 1 and " + MAX_SERVING_POINTS);
    }
    boolean byTag = deploymentTag != null && !deploymentTag.isEmpty();
    String p = project == null ? "" : project;
    return store.read(tx -> {
      List<VertexDoc> deps;
      if (byTag) {
        deps = tx.findVertices(new VertexQuery(Schema.DEPLOYMENT,
            List.of(new Condition(new Field.Name(), deploymentTag)), VertexQuery.Order.KEY, null, null, 1));
        if (deps.isEmpty()) {
          throw new NotFoundException("deployment", "deployment_tag: no deployment has tag \""
              + Validate.printable(deploymentTag) + "\"");
        }
        MetadataCore.readable(who, deps.get(0), "deployment_tag");
      } else {
        if (!p.isEmpty()) {
          who.requireRead(p, "deployments");
        }
        List<Condition> conds = p.isEmpty() ? List.of() : List.of(new Condition(new Field.Project(), p));
        deps = tx.findVertices(new VertexQuery(Schema.DEPLOYMENT, conds, VertexQuery.Order.KEY, null, null, 1000));
      }
      List<ServingVsDev> out = new ArrayList<>();
      for (VertexDoc dep : deps) {
        if (!who.canRead(dep.project())) {
          continue;
        }
        Object runKey = dep.doc().get("run_id");
        VertexDoc devPerf = null;
        if (runKey instanceof String k) {
          VertexDoc run = tx.vertex(new EntityId(Schema.RUN, k)).orElse(null);
          if (run != null) {
            devPerf = core.loadRun(tx, run).devPerf();
          }
        }
        List<VertexDoc> serving = new ArrayList<>(servingPerf(tx, dep, points));
        java.util.Collections.reverse(serving);
        out.add(new ServingVsDev(core.loadDeployment(tx, dep), devPerf, serving));
      }
      return out;
    });
  }

  // ---- history -------------------------------------------------------------------------------------------

  /** One event in an entity's life. {@code changes} is empty for creation. */
  public record HistoryEvent(long seq, Instant time, String actor, String action, Map<String, Object> changes) {}

  /** Who created an entity and when, then each later change, oldest first, a page at a time. */
  public Page<HistoryEvent> history(Principal who, String entityId, int pageSize, String pageToken) {
    EntityId id = Validate.id("id", entityId);
    int size = PageTokens.pageSize(pageSize);
    String hash = PageTokens.queryHash("history", id.toString());
    PageTokens.Position pos = PageTokens.decode(pageToken, hash);
    long after = pos == null ? -1 : parseSeq(pos.after());
    return store.read(tx -> {
      VertexDoc v = MetadataCore.readable(who, tx.vertex(id).orElseThrow(() -> new NotFoundException(
          id.toString(), "id: " + id + " does not exist")), "id");
      List<HistoryEvent> events = new ArrayList<>();
      if (after < 0) {
        events.add(new HistoryEvent(0, v.createTime(), v.creator(), "CREATED", Map.of()));
      }
      for (HistoryRecord h : tx.history(id, Math.max(0, after), size + 1 - events.size())) {
        events.add(new HistoryEvent(h.seq(), h.time(), h.actor(), h.action(), h.changes()));
      }
      if (events.size() <= size) {
        return new Page<>(events, "");
      }
      List<HistoryEvent> page = List.copyOf(events.subList(0, size));
      return new Page<>(page, PageTokens.encode(hash, Long.toString(page.get(size - 1).seq()), null));
    });
  }

  private static long parseSeq(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new InvalidArgumentException("page_token", "is not a token this server issued");
    }
  }

  static String time(Instant t) {
    return Times.format(t);
  }
}
