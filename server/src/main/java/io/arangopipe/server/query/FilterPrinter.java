package io.arangopipe.server.query;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Prints a syntax tree back as filter text that parses to the same tree. */
public final class FilterPrinter {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_\\-]*");

  private FilterPrinter() {}

  public static String print(Expr e) {
    if (e instanceof Expr.And a) {
      return a.parts().stream().map(FilterPrinter::group).collect(Collectors.joining(" AND "));
    }
    if (e instanceof Expr.Or o) {
      return o.parts().stream().map(FilterPrinter::group).collect(Collectors.joining(" OR "));
    }
    if (e instanceof Expr.Not n) {
      return "NOT " + group(n.part());
    }
    if (e instanceof Expr.Compare c) {
      return ref(c.field()) + " " + c.op().symbol + " " + literal(c.value());
    }
    if (e instanceof Expr.In in) {
      return ref(in.field()) + " IN (" + in.values().stream().map(FilterPrinter::literal)
          .collect(Collectors.joining(", ")) + ")";
    }
    if (e instanceof Expr.Like l) {
      return ref(l.field()) + " LIKE " + string(l.pattern());
    }
    if (e instanceof Expr.Exists x) {
      return ref(x.field()) + " EXISTS";
    }
    Expr.Contains c = (Expr.Contains) e;
    return ref(c.field()) + " CONTAINS " + literal(c.value());
  }

  /** Compound parts in parentheses, so precedence never changes the tree. */
  private static String group(Expr e) {
    return e instanceof Expr.And || e instanceof Expr.Or || e instanceof Expr.Not ? "(" + print(e) + ")" : print(e);
  }

  static String ref(Ref r) {
    List<String> segs = ((Ref.Raw) r).segments();
    return segs.stream().map(s -> PLAIN.matcher(s).matches()
            && !FilterParser.KEYWORDS.contains(s.toUpperCase(Locale.ROOT)) ? s : "\"" + s.replace("\"", "\"\"") + "\"")
        .collect(Collectors.joining("."));
  }

  static String literal(Literal l) {
    if (l instanceof Literal.Str s) {
      return string(s.value());
    }
    if (l instanceof Literal.Num n) {
      double v = n.value();
      if (v == Math.rint(v) && Math.abs(v) < 1e15 && !(v == 0 && 1 / v < 0)) {
        return Long.toString((long) v);
      }
      return Double.toString(v);
    }
    if (l instanceof Literal.Bool b) {
      return b.value() ? "TRUE" : "FALSE";
    }
    if (l instanceof Literal.Null) {
      return "NULL";
    }
    return "TIMESTAMP " + string(((Literal.Time) l).value().toString());
  }

  private static String string(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
