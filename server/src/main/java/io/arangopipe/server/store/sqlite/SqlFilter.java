package io.arangopipe.server.store.sqlite;

import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.Literal;
import io.arangopipe.server.query.Ref.Bound;
import io.arangopipe.server.query.Ref.Source;
import java.util.List;
import java.util.Map;

/**
 * Compiles a bound filter to an SQL boolean expression. Every value and every attribute path is a bind
 * parameter; the only text spliced in is table aliases and column names from this class's own tables,
 * and SQL keywords chosen by the tree's node types. Every leaf yields 0 or 1, never NULL, so NOT is
 * plain negation: a comparison on a missing attribute is false, and its negation true.
 */
final class SqlFilter {

  private final Map<Source, String> aliases;
  private final List<Object> params;

  /**
   * @param aliases the table alias of each source that may appear
   * @param params where bind parameters are appended, in order
   */
  SqlFilter(Map<Source, String> aliases, List<Object> params) {
    this.aliases = aliases;
    this.params = params;
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
      return "coalesce(" + compare((Bound) c.field(), c.op(), c.value()) + ", 0)";
    }
    if (e instanceof Expr.In in) {
      StringBuilder b = new StringBuilder("coalesce((");
      for (int i = 0; i < in.values().size(); i++) {
        if (i > 0) {
          b.append(" OR ");
        }
        b.append(compare((Bound) in.field(), Expr.Op.EQ, in.values().get(i)));
      }
      return b.append("), 0)").toString();
    }
    if (e instanceof Expr.Like l) {
      Bound f = (Bound) l.field();
      if (f.isSystem()) {
        params.add(glob(l.pattern()));
        return "coalesce(" + column(f) + " GLOB ?, 0)";
      }
      String path = path(f);
      params.add(path);
      params.add(path);
      params.add(glob(l.pattern()));
      return "coalesce((" + type(f) + " = 'text' AND " + value(f) + " GLOB ?), 0)";
    }
    if (e instanceof Expr.Exists x) {
      Bound f = (Bound) x.field();
      if (f.isSystem()) {
        return f.system() == io.arangopipe.server.query.Ref.SystemField.NAME ? "(" + column(f) + " IS NOT NULL)"
            : "(" + aliases.get(f.source()) + ".key IS NOT NULL)";
      }
      params.add(path(f));
      return "(" + type(f) + " IS NOT NULL)";
    }
    Expr.Contains c = (Expr.Contains) e;
    Bound f = (Bound) c.field();
    String a = aliases.get(f.source());
    String p = path(f);
    params.add(p);
    params.add(p);
    String elementType;
    Object v;
    if (c.value() instanceof Literal.Str s) {
      elementType = "j.type = 'text' AND j.value = ?";
      v = s.value();
    } else if (c.value() instanceof Literal.Num n) {
      elementType = "j.type IN ('integer', 'real') AND j.value = ?";
      v = n.value();
    } else {
      boolean b = ((Literal.Bool) c.value()).value();
      elementType = b ? "j.type = 'true'" : "j.type = 'false'";
      v = null;
    }
    if (v != null) {
      params.add(v);
    }
    return "coalesce((json_type(" + a + ".doc, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(" + a
        + ".doc, ?) j WHERE " + elementType + ")), 0)";
  }

  private String join(List<Expr> parts, String op) {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) {
        b.append(op);
      }
      b.append(compile(parts.get(i)));
    }
    return b.append(')').toString();
  }

  private String compare(Bound f, Expr.Op op, Literal lit) {
    if (f.isSystem()) {
      return compareColumn(f, op, lit);
    }
    String p = path(f);
    String t = type(f);
    String v = value(f);
    if (lit instanceof Literal.Null) {
      params.add(p);
      if (op == Expr.Op.EQ) {
        return "(" + t + " = 'null')";
      }
      params.add(p);
      return "(" + t + " IS NOT NULL AND " + t + " != 'null')";
    }
    if (lit instanceof Literal.Bool b) {
      params.add(p);
      boolean want = b.value() == (op == Expr.Op.EQ);
      return "(" + t + " = '" + (want ? "true" : "false") + "')";
    }
    params.add(p);
    params.add(p);
    if (lit instanceof Literal.Num n) {
      params.add(n.value());
      return "(" + t + " IN ('integer', 'real') AND " + v + " " + sql(op) + " ?)";
    }
    params.add(lit instanceof Literal.Str s ? s.value() : io.arangopipe.server.store.Times.format(((Literal.Time) lit).value()));
    return "(" + t + " = 'text' AND " + v + " " + sql(op) + " ?)";
  }

  private String compareColumn(Bound f, Expr.Op op, Literal lit) {
    String col = column(f);
    switch (f.system()) {
      case CREATE_TIME, UPDATE_TIME -> {
        params.add(SqliteTx.micros(((Literal.Time) lit).value()));
        return "(" + col + " " + sql(op) + " ?)";
      }
      default -> {
        if (lit instanceof Literal.Str s) {
          params.add(s.value());
          return "(" + col + " " + sql(op) + " ?)";
        }
        if (lit instanceof Literal.Null) {
          return op == Expr.Op.EQ ? "(" + col + " IS NULL)" : "(" + col + " IS NOT NULL)";
        }
        return "0"; // system text fields equal no number, boolean or time
      }
    }
  }

  String column(Bound f) {
    String a = aliases.get(f.source());
    return switch (f.system()) {
      case ID -> "(" + a + ".collection || '/' || " + a + ".key)";
      case KEY -> a + ".key";
      case NAME -> a + ".name";
      case PROJECT -> a + ".project";
      case CREATE_TIME -> a + ".create_time";
      case UPDATE_TIME -> a + ".update_time";
      case CREATOR -> a + ".creator";
    };
  }

  /** The SQL expression of a field's value, appending its parameters. */
  String valueExpr(Bound f) {
    if (f.isSystem()) {
      return column(f);
    }
    params.add(path(f));
    return value(f);
  }

  /** The SQL expression of a field's value when it is a number, else NULL; appends its parameters. */
  String numericExpr(Bound f) {
    if (f.isSystem()) {
      return column(f);
    }
    String p = path(f);
    params.add(p);
    params.add(p);
    return "(CASE WHEN " + type(f) + " IN ('integer', 'real') THEN " + value(f) + " END)";
  }

  private String type(Bound f) {
    return "json_type(" + aliases.get(f.source()) + ".doc, ?)";
  }

  private String value(Bound f) {
    return "json_extract(" + aliases.get(f.source()) + ".doc, ?)";
  }

  static String path(Bound f) {
    return SqliteTx.jsonPath(f.path());
  }

  private static String sql(Expr.Op op) {
    return switch (op) {
      case EQ -> "=";
      case NE -> "!=";
      case LT -> "<";
      case LE -> "<=";
      case GT -> ">";
      case GE -> ">=";
    };
  }

  /**
   * Turns a LIKE pattern into a GLOB pattern: {@code %} any run, {@code _} one character, {@code \}
   * escapes the next character. GLOB is case-sensitive, as LIKE is in AQL.
   */
  static String glob(String like) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < like.length(); i++) {
      char c = like.charAt(i);
      if (c == '\\' && i + 1 < like.length()) {
        literal(b, like.charAt(++i));
      } else if (c == '%') {
        b.append('*');
      } else if (c == '_') {
        b.append('?');
      } else {
        literal(b, c);
      }
    }
    return b.toString();
  }

  private static void literal(StringBuilder b, char c) {
    if (c == '*' || c == '?' || c == '[') {
      b.append('[').append(c).append(']');
    } else {
      b.append(c);
    }
  }
}
