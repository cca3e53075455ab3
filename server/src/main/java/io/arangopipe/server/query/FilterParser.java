package io.arangopipe.server.query;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Parses the filter language:
 *
 * <pre>
 * expr    = and { OR and }
 * and     = unary { AND unary }
 * unary   = NOT unary | primary
 * primary = "(" expr ")"
 *         | field ( cmp literal | [NOT] IN "(" literal {"," literal} ")" | [NOT] LIKE string
 *                 | [NOT] EXISTS | [NOT] CONTAINS literal )
 * cmp     = "=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;="
 * field   = segment { "." segment }      segment = name | "double-quoted name"
 * literal = 'string' | number | TRUE | FALSE | NULL | TIMESTAMP 'iso-time-or-date'
 * </pre>
 *
 * Keywords are case-insensitive; strings escape a quote by doubling it ({@code 'it''s'}). Input length,
 * nesting and the number of terms are bounded, so any input is parsed in bounded time and space.
 */
public final class FilterParser {
  public static final int MAX_LENGTH = 4096;
  public static final int MAX_DEPTH = 32;
  public static final int MAX_TERMS = 256;
  public static final int MAX_IN_VALUES = 1000;
  public static final int MAX_SEGMENTS = 16;

  static final Set<String> KEYWORDS =
      Set.of("AND", "OR", "NOT", "IN", "LIKE", "EXISTS", "CONTAINS", "TRUE", "FALSE", "NULL", "TIMESTAMP");

  private enum Kind {
    NAME, QUOTED, STRING, NUMBER, SYMBOL, END
  }

  private record Token(Kind kind, String text, int pos) {
    boolean is(String keyword) {
      return kind == Kind.NAME && text.equalsIgnoreCase(keyword);
    }

    boolean sym(String s) {
      return kind == Kind.SYMBOL && text.equals(s);
    }

    String describe() {
      return switch (kind) {
        case END -> "the end of the filter";
        case STRING -> "'" + text + "'";
        case QUOTED -> "\"" + text + "\"";
        default -> "\"" + text + "\"";
      };
    }
  }

  private final String src;
  private final List<Token> tokens;
  private int at;
  private int terms;

  private FilterParser(String src) {
    this.src = src;
    this.tokens = lex(src);
  }

  /** Parses a filter; an empty or blank one means "no filter" and returns {@code null}. */
  public static Expr parse(String filter) {
    if (filter == null || filter.isBlank()) {
      return null;
    }
    if (filter.length() > MAX_LENGTH) {
      throw new FilterSyntaxException(MAX_LENGTH, "is longer than " + MAX_LENGTH + " characters");
    }
    FilterParser p = new FilterParser(filter);
    Expr e = p.expr(0);
    if (p.peek().kind != Kind.END) {
      throw p.error("expected AND, OR or the end of the filter");
    }
    return e;
  }

  /**
   * Parses an order-by clause: a field path, optionally followed by {@code ASC} or {@code DESC}.
   *
   * @return the field and whether the order is descending
   */
  public static java.util.Map.Entry<Ref, Boolean> parseOrderBy(String text) {
    if (text.length() > MAX_LENGTH) {
      throw new FilterSyntaxException(MAX_LENGTH, "is longer than " + MAX_LENGTH + " characters");
    }
    FilterParser p = new FilterParser(text);
    Ref field = p.field();
    boolean desc = false;
    if (p.peek().is("ASC") || p.peek().is("DESC")) {
      desc = p.next().is("DESC");
    }
    if (p.peek().kind != Kind.END) {
      throw p.error("expected ASC, DESC or the end of order_by");
    }
    return java.util.Map.entry(field, desc);
  }

  /** Parses a single field path. */
  public static Ref parseField(String text) {
    if (text.length() > MAX_LENGTH) {
      throw new FilterSyntaxException(MAX_LENGTH, "is longer than " + MAX_LENGTH + " characters");
    }
    FilterParser p = new FilterParser(text);
    Ref field = p.field();
    if (p.peek().kind != Kind.END) {
      throw p.error("expected the end of the field path");
    }
    return field;
  }

  // ---- lexer -------------------------------------------------------------------------------------

  private static List<Token> lex(String s) {
    List<Token> out = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '\'' || c == '"') {
        int start = i;
        StringBuilder b = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            throw new FilterSyntaxException(start, "unclosed " + (c == '\'' ? "string" : "quoted name")
                + " starting at position " + start);
          }
          char d = s.charAt(i);
          if (d == c) {
            if (i + 1 < n && s.charAt(i + 1) == c) {
              b.append(c);
              i += 2;
              continue;
            }
            i++;
            break;
          }
          b.append(d);
          i++;
        }
        if (c == '"' && b.length() == 0) {
          throw new FilterSyntaxException(start, "empty quoted name at position " + start);
        }
        out.add(new Token(c == '\'' ? Kind.STRING : Kind.QUOTED, b.toString(), start));
      } else if (Character.isDigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < n
          && (Character.isDigit(s.charAt(i + 1)) || (s.charAt(i + 1) == '.' && i + 2 < n
              && Character.isDigit(s.charAt(i + 2)))))) {
        int start = i;
        i++;
        while (i < n && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.' || s.charAt(i) == 'e'
            || s.charAt(i) == 'E' || ((s.charAt(i) == '-' || s.charAt(i) == '+')
                && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')))) {
          i++;
        }
        out.add(new Token(Kind.NUMBER, s.substring(start, i), start));
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '-')) {
          i++;
        }
        out.add(new Token(Kind.NAME, s.substring(start, i), start));
      } else {
        int start = i;
        String two = i + 1 < n ? s.substring(i, i + 2) : "";
        if (two.equals("!=") || two.equals("<=") || two.equals(">=") || two.equals("<>") || two.equals("==")) {
          out.add(new Token(Kind.SYMBOL, two, start));
          i += 2;
        } else if ("=<>(),.".indexOf(c) >= 0) {
          out.add(new Token(Kind.SYMBOL, String.valueOf(c), start));
          i++;
        } else {
          throw new FilterSyntaxException(start, "unexpected character '" + printable(c) + "' at position " + start);
        }
      }
    }
    out.add(new Token(Kind.END, "", n));
    return out;
  }

  private static String printable(char c) {
    return Character.isISOControl(c) || Character.isWhitespace(c) ? String.format("\\u%04x", (int) c)
        : String.valueOf(c);
  }

  // ---- parser ------------------------------------------------------------------------------------

  private Token peek() {
    return tokens.get(at);
  }

  private Token next() {
    return tokens.get(at++);
  }

  private FilterSyntaxException error(String expected) {
    Token t = peek();
    return new FilterSyntaxException(t.pos, expected + " at position " + t.pos + ", found " + t.describe());
  }

  private void depth(int d) {
    if (d > MAX_DEPTH) {
      throw new FilterSyntaxException(peek().pos, "is nested more than " + MAX_DEPTH + " levels deep");
    }
  }

  private Expr expr(int d) {
    depth(d);
    List<Expr> parts = new ArrayList<>();
    parts.add(and(d));
    while (peek().is("OR")) {
      next();
      parts.add(and(d));
    }
    return parts.size() == 1 ? parts.get(0) : new Expr.Or(parts);
  }

  private Expr and(int d) {
    List<Expr> parts = new ArrayList<>();
    parts.add(unary(d));
    while (peek().is("AND")) {
      next();
      parts.add(unary(d));
    }
    return parts.size() == 1 ? parts.get(0) : new Expr.And(parts);
  }

  private Expr unary(int d) {
    depth(d);
    if (peek().is("NOT")) {
      next();
      return new Expr.Not(unary(d + 1));
    }
    return primary(d);
  }

  private Expr primary(int d) {
    if (peek().sym("(")) {
      next();
      Expr e = expr(d + 1);
      if (!peek().sym(")")) {
        throw error("expected \")\"");
      }
      next();
      return e;
    }
    if (++terms > MAX_TERMS) {
      throw new FilterSyntaxException(peek().pos, "has more than " + MAX_TERMS + " conditions");
    }
    Ref field = field();
    Token t = peek();
    boolean negated = false;
    if (t.is("NOT")) {
      next();
      negated = true;
      t = peek();
      if (!(t.is("IN") || t.is("LIKE") || t.is("EXISTS") || t.is("CONTAINS"))) {
        throw error("expected IN, LIKE, EXISTS or CONTAINS after NOT");
      }
    }
    Expr e;
    if (t.is("IN")) {
      next();
      if (!peek().sym("(")) {
        throw error("expected \"(\" after IN");
      }
      next();
      List<Literal> values = new ArrayList<>();
      values.add(literal());
      while (peek().sym(",")) {
        next();
        values.add(literal());
        if (values.size() > MAX_IN_VALUES) {
          throw new FilterSyntaxException(peek().pos, "IN lists take at most " + MAX_IN_VALUES + " values");
        }
      }
      if (!peek().sym(")")) {
        throw error("expected \",\" or \")\" in the IN list");
      }
      next();
      e = new Expr.In(field, values);
    } else if (t.is("LIKE")) {
      next();
      if (peek().kind != Kind.STRING) {
        throw error("expected a 'quoted pattern' after LIKE");
      }
      e = new Expr.Like(field, next().text);
    } else if (t.is("EXISTS")) {
      next();
      e = new Expr.Exists(field);
    } else if (t.is("CONTAINS")) {
      next();
      e = new Expr.Contains(field, literal());
    } else if (t.kind == Kind.SYMBOL && Set.of("=", "==", "!=", "<>", "<", "<=", ">", ">=").contains(t.text)) {
      next();
      Expr.Op op = switch (t.text) {
        case "=", "==" -> Expr.Op.EQ;
        case "!=", "<>" -> Expr.Op.NE;
        case "<" -> Expr.Op.LT;
        case "<=" -> Expr.Op.LE;
        case ">" -> Expr.Op.GT;
        default -> Expr.Op.GE;
      };
      e = new Expr.Compare(field, op, literal());
    } else {
      throw error("expected an operator (= != < <= > >= IN LIKE EXISTS CONTAINS)");
    }
    return negated ? new Expr.Not(e) : e;
  }

  private Ref field() {
    List<String> segs = new ArrayList<>();
    segs.add(segment());
    while (peek().sym(".")) {
      next();
      segs.add(segment());
      if (segs.size() > MAX_SEGMENTS) {
        throw new FilterSyntaxException(peek().pos, "field paths have at most " + MAX_SEGMENTS + " parts");
      }
    }
    return new Ref.Raw(segs);
  }

  private String segment() {
    Token t = peek();
    if (t.kind == Kind.QUOTED) {
      next();
      return t.text;
    }
    if (t.kind == Kind.NAME && !KEYWORDS.contains(t.text.toUpperCase(Locale.ROOT))) {
      next();
      return t.text;
    }
    throw error("expected a field name (quote names that are keywords or hold spaces: \"fixed acidity\")");
  }

  private Literal literal() {
    Token t = peek();
    switch (t.kind) {
      case STRING -> {
        next();
        return new Literal.Str(t.text);
      }
      case NUMBER -> {
        next();
        try {
          double v = Double.parseDouble(t.text);
          if (Double.isInfinite(v) || Double.isNaN(v)) {
            throw new NumberFormatException();
          }
          return new Literal.Num(v);
        } catch (NumberFormatException e) {
          throw new FilterSyntaxException(t.pos, "\"" + t.text + "\" at position " + t.pos + " is not a number");
        }
      }
      case NAME -> {
        if (t.is("TRUE") || t.is("FALSE")) {
          next();
          return new Literal.Bool(t.is("TRUE"));
        }
        if (t.is("NULL")) {
          next();
          return new Literal.Null();
        }
        if (t.is("TIMESTAMP")) {
          next();
          Token s = peek();
          if (s.kind != Kind.STRING) {
            throw error("expected a 'quoted time' after TIMESTAMP");
          }
          next();
          return new Literal.Time(parseTime(s));
        }
        throw error("expected a value ('string', number, TRUE, FALSE, NULL or TIMESTAMP '...'); quote strings");
      }
      default -> throw error("expected a value ('string', number, TRUE, FALSE, NULL or TIMESTAMP '...')");
    }
  }

  private static Instant parseTime(Token s) {
    try {
      if (s.text.length() == 10) {
        return LocalDate.parse(s.text).atStartOfDay().toInstant(ZoneOffset.UTC);
      }
      return java.time.OffsetDateTime.parse(s.text).toInstant();
    } catch (DateTimeParseException e) {
      throw new FilterSyntaxException(s.pos, "TIMESTAMP '" + s.text + "' at position " + s.pos
          + " is not an ISO-8601 date (2024-01-31) or time with offset (2024-01-31T12:00:00Z)");
    }
  }
}
