package io.arangopipe.server.query;

import io.arangopipe.server.query.Ref.Bound;
import io.arangopipe.server.query.Ref.Source;
import io.arangopipe.server.query.Ref.SystemField;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Resolves the field references of a parsed filter for one kind of query, and checks that each
 * comparison makes sense for its field (times compare with TIMESTAMP literals, ordering operators take
 * numbers, strings or times).
 *
 * <p>In a run query the first segment may name the entity a field belongs to: {@code run}, {@code dataset},
 * {@code featureset}, {@code model}, {@code modelparams} (or {@code params}), {@code devperf} (or
 * {@code perf}); without one, the field is the run's. In an entity query every path is the entity's.
 * After the entity, {@code id}, {@code key}, {@code name}, {@code project}, {@code create_time},
 * {@code update_time} and {@code creator} are system fields; any other path is an attribute of the
 * document, and {@code document.} reaches a document attribute that shares a system field's name.
 */
public final class Binder {

  /** What the query ranges over. */
  public enum Context {
    RUNS,
    ENTITIES
  }

  private static final Map<String, Source> ALIASES = Map.of(
      "run", Source.RUN,
      "dataset", Source.DATASET,
      "featureset", Source.FEATURESET,
      "model", Source.MODEL,
      "modelparams", Source.MODELPARAMS,
      "params", Source.MODELPARAMS,
      "devperf", Source.DEVPERF,
      "perf", Source.DEVPERF);

  private static final Map<String, SystemField> SYSTEM = Map.of(
      "id", SystemField.ID,
      "key", SystemField.KEY,
      "_key", SystemField.KEY,
      "_id", SystemField.ID,
      "name", SystemField.NAME,
      "project", SystemField.PROJECT,
      "create_time", SystemField.CREATE_TIME,
      "update_time", SystemField.UPDATE_TIME,
      "creator", SystemField.CREATOR);

  private Binder() {}

  /** Binds a parsed filter; {@code null} stays {@code null}. */
  public static Expr bind(Expr e, Context ctx) {
    if (e == null) {
      return null;
    }
    if (e instanceof Expr.And a) {
      return new Expr.And(a.parts().stream().map(p -> bind(p, ctx)).toList());
    }
    if (e instanceof Expr.Or o) {
      return new Expr.Or(o.parts().stream().map(p -> bind(p, ctx)).toList());
    }
    if (e instanceof Expr.Not n) {
      return new Expr.Not(bind(n.part(), ctx));
    }
    if (e instanceof Expr.Compare c) {
      Bound f = ref(c.field(), ctx);
      check(f, c.op(), c.value());
      return new Expr.Compare(f, c.op(), c.value());
    }
    if (e instanceof Expr.In in) {
      Bound f = ref(in.field(), ctx);
      in.values().forEach(v -> check(f, Expr.Op.EQ, v));
      return new Expr.In(f, in.values());
    }
    if (e instanceof Expr.Like l) {
      Bound f = ref(l.field(), ctx);
      if (isTime(f)) {
        throw new FilterSyntaxException(-1, FilterPrinter.ref(l.field()) + " is a time; LIKE takes strings");
      }
      return new Expr.Like(f, l.pattern());
    }
    if (e instanceof Expr.Exists x) {
      return new Expr.Exists(ref(x.field(), ctx));
    }
    Expr.Contains c = (Expr.Contains) e;
    Bound f = ref(c.field(), ctx);
    if (f.isSystem()) {
      throw new FilterSyntaxException(-1, FilterPrinter.ref(c.field()) + " is not a list; CONTAINS tests lists");
    }
    if (c.value() instanceof Literal.Time || c.value() instanceof Literal.Null) {
      throw new FilterSyntaxException(-1, "CONTAINS takes a string, number or boolean");
    }
    return new Expr.Contains(f, c.value());
  }

  /** Resolves one field reference (also used for order-by and group-by fields). */
  public static Bound ref(Ref r, Context ctx) {
    if (r instanceof Bound b) {
      return b;
    }
    List<String> segs = new ArrayList<>(((Ref.Raw) r).segments());
    for (String s : segs) {
      if (s.indexOf('"') >= 0 || s.indexOf('\\') >= 0) {
        throw new FilterSyntaxException(-1, "field names must not contain double quotes or backslashes");
      }
      for (int i = 0; i < s.length(); i++) {
        if (Character.isISOControl(s.charAt(i))) {
          throw new FilterSyntaxException(-1, "field names must not contain control characters");
        }
      }
    }
    Source source = ctx == Context.RUNS ? Source.RUN : Source.SELF;
    if (ctx == Context.RUNS && ALIASES.containsKey(segs.get(0).toLowerCase(Locale.ROOT))) {
      source = ALIASES.get(segs.remove(0).toLowerCase(Locale.ROOT));
      if (segs.isEmpty()) {
        return Bound.system(source, SystemField.ID);
      }
    }
    if (segs.size() == 1 && SYSTEM.containsKey(segs.get(0))) {
      return Bound.system(source, SYSTEM.get(segs.get(0)));
    }
    if (segs.get(0).equals("document") && segs.size() > 1) {
      segs.remove(0);
    }
    return Bound.doc(source, segs);
  }

  private static boolean isTime(Bound f) {
    return f.system() == SystemField.CREATE_TIME || f.system() == SystemField.UPDATE_TIME;
  }

  private static void check(Bound f, Expr.Op op, Literal v) {
    if (isTime(f) && !(v instanceof Literal.Time)) {
      throw new FilterSyntaxException(-1, "system time fields compare with TIMESTAMP '...' literals");
    }
    if (v instanceof Literal.Null || v instanceof Literal.Bool) {
      if (op != Expr.Op.EQ && op != Expr.Op.NE) {
        throw new FilterSyntaxException(-1, "NULL, TRUE and FALSE take only = and !=");
      }
    }
  }
}
