package io.arangopipe.server.store.arangodb;

import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.Cursor;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.query.Ref.Source;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Builds every AQL query the ArangoDB store runs, from the store-neutral query model. Pure: no driver,
 * no server, so the unit tests can check the text and the bind parameters of each query. Physical
 * collection names come in as arguments (see {@link Layout}); everything from a request is a bind
 * parameter.
 */
final class AqlCompiler {

  static final String SELF = "d";

  /** The run query's variables: the run and the entities its edges lead to. */
  static final Map<Source, AqlFilter.Var> RUN_VARS = Map.of(
      Source.RUN, new AqlFilter.Var("r", "run"),
      Source.MODELPARAMS, new AqlFilter.Var("mp", "modelparams"),
      Source.DEVPERF, new AqlFilter.Var("dp", "devperf"),
      Source.DATASET, new AqlFilter.Var("ds", "datasets"),
      Source.FEATURESET, new AqlFilter.Var("fs", "featuresets"),
      Source.MODEL, new AqlFilter.Var("m", "models"));

  private AqlCompiler() {}

  static Map<Source, AqlFilter.Var> selfVars(String logicalCollection) {
    return Map.of(Source.SELF, new AqlFilter.Var(SELF, logicalCollection));
  }

  // ---- single documents ---------------------------------------------------------------------------

  static Aql byKey(String physical, String key) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR d IN " + c + " FILTER d._key == " + q.value(key) + " LIMIT 1 RETURN d");
  }

  static Aql byKeys(String physical, Collection<String> keys) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR d IN " + c + " FILTER d._key IN " + q.value(List.copyOf(keys)) + " RETURN d");
  }

  static Aql count(String physical) {
    Aql q = new Aql();
    return q.append("RETURN LENGTH(" + q.collection(physical) + ")");
  }

  static Aql edgeBetween(String physical, String fromId, String toId) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR e IN " + c + " FILTER e._from == " + q.value(fromId) + " AND e._to == " + q.value(toId)
        + " LIMIT 1 RETURN e");
  }

  /** Edges of one collection that start at (outbound) or end at one of the vertices. */
  static Aql edgesOf(String physical, List<String> vertexIds, boolean outbound, int limit) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR e IN " + c + " FILTER e." + (outbound ? "_from" : "_to") + " IN " + q.value(vertexIds)
        + " LIMIT " + q.value((long) limit) + " RETURN e");
  }

  /** A page of one edge collection by key, strictly after afterKey. */
  static Aql scanEdges(String physical, String afterKey, int limit) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR e IN " + c + " FILTER e._key > " + q.value(afterKey) + " SORT e._key LIMIT "
        + q.value((long) limit) + " RETURN e");
  }

  static Aql history(String entityId, long afterSeq, int limit) {
    Aql q = new Aql();
    String c = q.collection(Layout.HISTORY);
    return q.append("FOR h IN " + c + " FILTER h.entity_id == " + q.value(entityId) + " AND h.seq > "
        + q.value(afterSeq) + " SORT h.seq LIMIT " + q.value((long) limit) + " RETURN h");
  }

  static Aql scanHistory(long afterSeq, int limit) {
    Aql q = new Aql();
    String c = q.collection(Layout.HISTORY);
    return q.append("FOR h IN " + c + " FILTER h.seq > " + q.value(afterSeq) + " SORT h.seq LIMIT "
        + q.value((long) limit) + " RETURN h");
  }

  /** A page of request records by request id, strictly after afterId (the key is a hash, so not by key). */
  static Aql scanRequests(String afterId, int limit) {
    Aql q = new Aql();
    String c = q.collection(Layout.REQUESTS);
    return q.append("FOR r IN " + c + " FILTER r.request_id > " + q.value(afterId) + " SORT r.request_id LIMIT "
        + q.value((long) limit) + " RETURN r");
  }

  static Aql collectionDefs() {
    Aql q = new Aql();
    String c = q.collection(Layout.DEFS);
    return q.append("FOR c IN " + c + " SORT c.builtin DESC, (c.builtin ? c.ordinal : null), c.name RETURN c");
  }

  static Aql maxOrdinal() {
    Aql q = new Aql();
    String c = q.collection(Layout.DEFS);
    return q.append("RETURN MAX(FOR c IN " + c + " RETURN c.ordinal)");
  }

  // ---- writes -------------------------------------------------------------------------------------

  static Aql insert(String physical, Map<String, Object> doc) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("INSERT " + q.value(doc) + " INTO " + c + " RETURN NEW._key");
  }

  static Aql update(String physical, String key, Map<String, Object> patch) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("UPDATE " + q.value(key) + " WITH " + q.value(patch) + " IN " + c
        + " OPTIONS { mergeObjects: false } RETURN NEW._key");
  }

  /**
   * Replaces a vertex's user attributes and update time, keeping the other system fields ({@code
   * system} is used only for a document that has none, i.e. one the seed library wrote).
   */
  static Aql replaceVertex(String physical, String key, Map<String, Object> top, Map<String, Object> reserved,
      long updateMicros, Map<String, Object> system) {
    Aql q = new Aql();
    String c = q.collection(physical);
    String s = "d." + Layout.SYSTEM;
    return q.append("FOR d IN " + c + " FILTER d._key == " + q.value(key) + " REPLACE d WITH MERGE("
        + q.value(top) + ", { " + Layout.SYSTEM + ": MERGE(UNSET(IS_OBJECT(" + s + ") ? " + s + " : "
        + q.value(system) + ", \"" + Layout.RESERVED + "\"), { update_time: " + q.value(updateMicros)
        + " }, " + q.value(reserved == null ? Map.of() : Map.of(Layout.RESERVED, reserved)) + ") }) IN " + c
        + " RETURN 1");
  }

  /**
   * Gives documents the seed library wrote (no {@code arangopipe} object) the system fields: their
   * {@code name} attribute as the name, no project, the epoch as times, no creator. They then answer
   * lookups and filters by name like the server's own documents.
   */
  static Aql adoptSeedVertices(String physical) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR d IN " + c + " FILTER !IS_OBJECT(d." + Layout.SYSTEM + ") UPDATE d WITH { "
        + Layout.SYSTEM + ": { name: IS_STRING(d.name) ? d.name : null, project: \"\", create_time: 0,"
        + " update_time: 0, creator: \"\" } } IN " + c + " OPTIONS { mergeObjects: false }");
  }

  static Aql removeAll(String physical) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR d IN " + c + " REMOVE d IN " + c);
  }

  static Aql remove(String physical, String key) {
    Aql q = new Aql();
    String c = q.collection(physical);
    return q.append("FOR d IN " + c + " FILTER d._key == " + q.value(key) + " REMOVE d IN " + c + " RETURN 1");
  }

  // ---- searches -----------------------------------------------------------------------------------

  /** Equality conditions of {@code findVertices}-style queries, on the variable {@code d}. */
  static String condition(Aql q, Condition cond) {
    Object v = cond.value();
    Field field = cond.field();
    String x;
    if (field instanceof Field.Key) {
      x = "d._key";
    } else if (field instanceof Field.Name) {
      x = "d." + Layout.SYSTEM + ".name";
      if (v == null) {
        return "(d." + Layout.SYSTEM + ".name == null)";
      }
    } else if (field instanceof Field.Project) {
      x = "d." + Layout.SYSTEM + ".project";
    } else {
      List<String> path = Layout.docPath(((Field.Doc) field).path());
      x = "d." + q.path(path);
      if (v == null) {
        String parent = path.size() == 1 ? "d" : "d." + q.path(path.subList(0, path.size() - 1));
        return "(IS_OBJECT(" + parent + ") AND HAS(" + parent + ", " + q.value(path.get(path.size() - 1))
            + ") AND " + x + " == null)";
      }
      if (v instanceof Boolean || v instanceof String) {
        return "(" + x + " == " + q.value(v) + ")";
      }
      return "(IS_NUMBER(" + x + ") AND " + x + " == " + q.value(v) + ")";
    }
    if (v instanceof String) {
      return "(" + x + " == " + q.value(v) + ")";
    }
    return "false"; // system fields are strings: nothing else equals them
  }

  static Aql searchVertices(String physical, String logical, List<Condition> conditions, Expr filter,
      OrderSpec order, Cursor after, int limit) {
    Aql q = new Aql();
    String c = q.collection(physical);
    q.append("FOR d IN " + c);
    for (Condition cond : conditions) {
      q.append(" FILTER " + condition(q, cond));
    }
    AqlFilter f = new AqlFilter(selfVars(logical), q);
    if (filter != null) {
      q.append(" FILTER " + f.compile(filter));
    }
    orderAndPage(q, f, SELF, order, after, limit);
    return q.append(" RETURN d");
  }

  /** The run rows: each run with the entities its run_* edges (and the model's run_models edge) lead to. */
  private static void runsFrom(Aql q, String project) {
    q.append("FOR r IN " + q.collection("run"));
    if (!project.isEmpty()) {
      q.append(" FILTER r." + Layout.SYSTEM + ".project == " + q.value(project));
    }
    join(q, "mp", "run_modelparams", "modelparams", true);
    join(q, "dp", "run_devperf", "devperf", true);
    join(q, "ds", "run_datasets", "datasets", true);
    join(q, "fs", "run_featuresets", "featuresets", true);
    join(q, "m", "run_models", "models", false);
  }

  private static void join(Aql q, String var, String edges, String vertices, boolean outbound) {
    String e = q.collection(edges);
    String v = q.collection(vertices);
    String here = outbound ? "_from" : "_to";
    String there = outbound ? "_to" : "_from";
    q.append(" LET " + var + " = FIRST(FOR e IN " + e + " FILTER e." + here + " == r._id FOR x IN " + v
        + " FILTER x._id == e." + there + " LIMIT 1 RETURN x)");
  }

  static Aql searchRuns(String project, Expr filter, OrderSpec order, Cursor after, int limit) {
    Aql q = new Aql();
    runsFrom(q, project);
    AqlFilter f = new AqlFilter(RUN_VARS, q);
    if (filter != null) {
      q.append(" FILTER " + f.compile(filter));
    }
    orderAndPage(q, f, "r", order, after, limit);
    return q.append(" RETURN { r: r, mp: mp, dp: dp, ds: ds, fs: fs, m: m }");
  }

  /** The keyset condition, SORT (missing values last, the key breaks ties) and LIMIT. */
  private static void orderAndPage(Aql q, AqlFilter f, String var, OrderSpec order, Cursor after, int limit) {
    String key = var + "._key";
    if (order.field() == null) {
      if (after != null) {
        q.append(" FILTER " + key + (order.descending() ? " < " : " > ") + q.value(after.key()));
      }
      q.append(" SORT " + key + (order.descending() ? " DESC" : ""));
    } else {
      String x = f.sortExpr(order.field());
      if (after != null) {
        if (after.value() == null) {
          q.append(" FILTER (" + x + " == null AND " + key + " > " + q.value(after.key()) + ")");
        } else {
          Object v = after.value() instanceof Boolean b ? (Object) (b ? 1L : 0L) : after.value();
          String pv = q.value(v);
          q.append(" FILTER (" + x + " == null OR " + x + (order.descending() ? " < " : " > ") + pv + " OR (" + x
              + " == " + pv + " AND " + key + " > " + q.value(after.key()) + "))");
        }
      }
      q.append(" SORT (" + x + " == null), " + x + (order.descending() ? " DESC" : "") + ", " + key);
    }
    q.append(" LIMIT " + q.value((long) limit));
  }

  // ---- aggregation --------------------------------------------------------------------------------

  /**
   * Groups and aggregates. Each row is {@code {k: [group keys], a: [aggregate parts]}}: one part per
   * aggregate, except SUM (count of numbers, sum) and STDDEV (count, sum, sum of squares), which the
   * store finishes in Java exactly as the SQLite store does.
   */
  static Aql aggregate(Aggregation.Query a, String physical) {
    Aql q = new Aql();
    boolean runs = a.collection() == null;
    AqlFilter f;
    if (runs) {
      runsFrom(q, a.project());
      f = new AqlFilter(RUN_VARS, q);
    } else {
      q.append("FOR d IN " + q.collection(physical));
      if (!a.project().isEmpty()) {
        q.append(" FILTER d." + Layout.SYSTEM + ".project == " + q.value(a.project()));
      }
      f = new AqlFilter(selfVars(a.collection()), q);
    }
    if (a.filter() != null) {
      q.append(" FILTER " + f.compile(a.filter()));
    }
    List<String> groups = new ArrayList<>();
    for (int i = 0; i < a.groupBy().size(); i++) {
      Aggregation.GroupKey g = a.groupBy().get(i);
      String expr;
      if (g.condition() != null) {
        expr = "(" + f.compile(g.condition()) + " ? true : false)";
      } else {
        expr = bucket(q, f.sortExpr(g.field()), g.bucket(), g.field().isSystem());
      }
      groups.add("g" + i + " = " + expr);
    }
    List<String> aggs = new ArrayList<>();
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < a.aggregates().size(); i++) {
      Aggregation.Aggregate ag = a.aggregates().get(i);
      switch (ag.function()) {
        case COUNT -> {
          aggs.add("a" + i + " = LENGTH(1)");
          outs.add("a" + i);
        }
        case COUNT_DISTINCT -> {
          aggs.add("a" + i + " = UNIQUE(" + f.sortExpr(ag.field()) + ")");
          outs.add("LENGTH(a" + i + "[* FILTER CURRENT != null])");
        }
        case MIN, MAX -> {
          aggs.add("a" + i + " = " + ag.function().name() + "(" + f.numericExpr(ag.field()) + ")");
          outs.add("a" + i);
        }
        case MEAN -> {
          aggs.add("a" + i + " = AVERAGE(" + f.numericExpr(ag.field()) + ")");
          outs.add("a" + i);
        }
        case SUM -> {
          String x = f.numericExpr(ag.field());
          aggs.add("n" + i + " = SUM(" + x + " == null ? 0 : 1)");
          aggs.add("a" + i + " = SUM(" + f.numericExpr(ag.field()) + ")");
          outs.add("(n" + i + " == 0 ? null : a" + i + ")");
        }
        case STDDEV -> {
          String x = f.numericExpr(ag.field());
          aggs.add("n" + i + " = SUM(" + x + " == null ? 0 : 1)");
          aggs.add("a" + i + " = SUM(" + f.numericExpr(ag.field()) + ")");
          String y = f.numericExpr(ag.field());
          aggs.add("q" + i + " = SUM(" + y + " == null ? 0 : " + y + " * " + y + ")");
          outs.add("[n" + i + ", a" + i + ", q" + i + "]");
        }
      }
    }
    q.append(" COLLECT " + String.join(", ", groups));
    if (!aggs.isEmpty()) {
      q.append(" AGGREGATE " + String.join(", ", aggs));
    }
    for (int i = 0; i < outs.size(); i++) {
      q.append(" LET o" + i + " = " + outs.get(i));
    }
    if (a.orderByAggregate() >= 0) {
      String o = "o" + a.orderByAggregate();
      if (a.aggregates().get(a.orderByAggregate()).function() == Aggregation.Function.STDDEV) {
        // Order by the finished standard deviation, as the SQLite store does (computed in the query).
        o = "(" + o + "[0] < 2 ? null : SQRT(MAX([0, (" + o + "[2] - " + o + "[1] * " + o + "[1] / " + o
            + "[0]) / (" + o + "[0] - 1)])))";
      }
      q.append(" SORT " + o + " == null, " + o + (a.descending() ? " DESC" : ""));
      for (int i = 0; i < groups.size(); i++) {
        q.append(", g" + i);
      }
    } else if (!groups.isEmpty()) {
      q.append(" SORT ");
      for (int i = 0; i < groups.size(); i++) {
        q.append((i > 0 ? ", " : "") + "g" + i + (a.descending() ? " DESC" : ""));
      }
    }
    q.append(" LIMIT " + q.value((long) a.limit()));
    StringBuilder keys = new StringBuilder("[");
    for (int i = 0; i < groups.size(); i++) {
      keys.append(i > 0 ? ", " : "").append("g").append(i);
    }
    StringBuilder vals = new StringBuilder("[");
    for (int i = 0; i < outs.size(); i++) {
      vals.append(i > 0 ? ", " : "").append("o").append(i);
    }
    return q.append(" RETURN { k: " + keys + "], a: " + vals + "] }");
  }

  private static String bucket(Aql q, String x, Aggregation.Bucket b, boolean systemTime) {
    if (b == null || b == Aggregation.Bucket.NONE) {
      return x;
    }
    if (systemTime) {
      String fmt = switch (b) {
        case DAY -> "%yyyy-%mm-%dd";
        case MONTH -> "%yyyy-%mm";
        default -> "%yyyy";
      };
      return "(IS_NUMBER(" + x + ") ? DATE_FORMAT(FLOOR(" + x + " / 1000), " + q.value(fmt) + ") : null)";
    }
    int len = switch (b) {
      case DAY -> 10;
      case MONTH -> 7;
      default -> 4;
    };
    return "(IS_STRING(" + x + ") ? SUBSTRING(" + x + ", 0, " + len + ") : null)";
  }
}
