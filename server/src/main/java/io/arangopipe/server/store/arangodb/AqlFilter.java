package io.arangopipe.server.store.arangodb;

import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.Literal;
import io.arangopipe.server.query.Ref.Bound;
import io.arangopipe.server.query.Ref.Source;
import io.arangopipe.server.store.Times;
import java.util.List;
import java.util.Map;

/**
 * Compiles a bound filter to an AQL boolean expression with the same meaning as the SQLite compiler:
 * comparisons are type-strict (a number never equals a string), a missing attribute makes a comparison
 * false, {@code = null} tests for an explicit null, and every leaf yields true or false (never null), so
 * NOT is plain negation. Values and attribute paths are bind parameters; the text holds only the
 * variable names given to the constructor and constants from this class.
 */
final class AqlFilter {

  /** The AQL variable of a source, and the logical collection its documents belong to. */
  record Var(String name, String logicalCollection) {}

  private final Map<Source, Var> vars;
  private final Aql q;

  AqlFilter(Map<Source, Var> vars, Aql q) {
    this.vars = vars;
    this.q = q;
  }

  String compile(Expr e) {
    if (e instanceof Expr.And a) {
      return join(a.parts(), " AND ");
    }
    if (e instanceof Expr.Or o) {
      return join(o.parts(), " OR ");
    }
    if (e instanceof Expr.Not n) {
      return "(NOT " + compile(n.part()) + ")";
    }
    if (e instanceof Expr.Compare c) {
      return compare((Bound) c.field(), c.op(), c.value());
    }
    if (e instanceof Expr.In in) {
      if (in.values().isEmpty()) {
        return "false";
      }
      StringBuilder b = new StringBuilder("(");
      for (int i = 0; i < in.values().size(); i++) {
        b.append(i > 0 ? " OR " : "").append(compare((Bound) in.field(), Expr.Op.EQ, in.values().get(i)));
      }
      return b.append(')').toString();
    }
    if (e instanceof Expr.Like l) {
      String x = valueExpr((Bound) l.field());
      return "(IS_STRING(" + x + ") AND LIKE(" + x + ", " + q.value(l.pattern()) + ", false))";
    }
    if (e instanceof Expr.Exists x) {
      Bound f = (Bound) x.field();
      if (f.isSystem()) {
        String v = var(f);
        return f.system() == io.arangopipe.server.query.Ref.SystemField.NAME
            ? "IS_STRING(" + system(f) + ")" : "(" + v + " != null)";
      }
      return exists(f);
    }
    Expr.Contains c = (Expr.Contains) e;
    String x = valueExpr((Bound) c.field());
    Object v;
    if (c.value() instanceof Literal.Str s) {
      v = s.value();
    } else if (c.value() instanceof Literal.Num n) {
      v = n.value();
    } else {
      v = ((Literal.Bool) c.value()).value();
    }
    return "(IS_ARRAY(" + x + ") AND " + q.value(v) + " IN " + x + ")";
  }

  private String join(List<Expr> parts, String op) {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < parts.size(); i++) {
      b.append(i > 0 ? op : "").append(compile(parts.get(i)));
    }
    return b.append(')').toString();
  }

  private String var(Bound f) {
    Var v = vars.get(f.source());
    if (v == null) {
      throw new IllegalArgumentException("no variable for " + f.source());
    }
    return v.name();
  }

  /** The attribute is present (with any value, null included). */
  private String exists(Bound f) {
    List<String> path = Layout.docPath(f.path());
    String v = var(f);
    String parent = path.size() == 1 ? v : v + "." + q.path(path.subList(0, path.size() - 1));
    return "(IS_OBJECT(" + parent + ") AND HAS(" + parent + ", " + q.value(path.get(path.size() - 1)) + "))";
  }

  private String compare(Bound f, Expr.Op op, Literal lit) {
    if (f.isSystem()) {
      return compareSystem(f, op, lit);
    }
    String x = valueExpr(f);
    if (lit instanceof Literal.Null) {
      return op == Expr.Op.EQ ? "(" + exists(f) + " AND " + x + " == null)" : "(" + x + " != null)";
    }
    if (lit instanceof Literal.Bool b) {
      boolean want = b.value() == (op == Expr.Op.EQ);
      return "(" + x + " == " + q.value(want) + ")";
    }
    if (lit instanceof Literal.Num n) {
      return "(IS_NUMBER(" + x + ") AND " + x + " " + aql(op) + " " + q.value(n.value()) + ")";
    }
    String s = lit instanceof Literal.Str str ? str.value() : Times.format(((Literal.Time) lit).value());
    return "(IS_STRING(" + x + ") AND " + x + " " + aql(op) + " " + q.value(s) + ")";
  }

  private String compareSystem(Bound f, Expr.Op op, Literal lit) {
    String x = system(f);
    switch (f.system()) {
      case CREATE_TIME, UPDATE_TIME -> {
        return "(IS_NUMBER(" + x + ") AND " + x + " " + aql(op) + " "
            + q.value(Layout.micros(((Literal.Time) lit).value())) + ")";
      }
      default -> {
        if (lit instanceof Literal.Str s) {
          return "(IS_STRING(" + x + ") AND " + x + " " + aql(op) + " " + q.value(s.value()) + ")";
        }
        if (lit instanceof Literal.Null) {
          return op == Expr.Op.EQ ? "(" + x + " == null)" : "(" + x + " != null)";
        }
        return "false"; // system text fields equal no number, boolean or time
      }
    }
  }

  /** The expression of a system field. */
  String system(Bound f) {
    String v = var(f);
    return switch (f.system()) {
      case ID -> "(" + v + " == null ? null : CONCAT(" + q.value(vars.get(f.source()).logicalCollection()) + ", \"/\", "
          + v + "._key))";
      case KEY -> v + "._key";
      case NAME -> v + "." + Layout.SYSTEM + ".name";
      case PROJECT -> v + "." + Layout.SYSTEM + ".project";
      case CREATE_TIME -> v + "." + Layout.SYSTEM + ".create_time";
      case UPDATE_TIME -> v + "." + Layout.SYSTEM + ".update_time";
      case CREATOR -> v + "." + Layout.SYSTEM + ".creator";
    };
  }

  /** The AQL expression of a field's value (null when missing). */
  String valueExpr(Bound f) {
    if (f.isSystem()) {
      return system(f);
    }
    return var(f) + "." + q.path(Layout.docPath(f.path()));
  }

  /** The value for sorting and grouping: booleans as 1/0, as the SQLite store's JSON extraction gives them. */
  String sortExpr(Bound f) {
    if (f.isSystem()) {
      return system(f);
    }
    String x = valueExpr(f);
    return "(IS_BOOL(" + x + ") ? TO_NUMBER(" + x + ") : " + x + ")";
  }

  /** The value when it is a number, else null. */
  String numericExpr(Bound f) {
    String x = valueExpr(f);
    if (f.isSystem()) {
      return x;
    }
    return "(IS_NUMBER(" + x + ") ? " + x + " : null)";
  }

  static String aql(Expr.Op op) {
    return switch (op) {
      case EQ -> "==";
      case NE -> "!=";
      case LT -> "<";
      case LE -> "<=";
      case GT -> ">";
      case GE -> ">=";
    };
  }
}
