package io.arangopipe.server.query;

import java.util.List;
import java.util.Objects;

/**
 * The store-neutral syntax tree of a filter expression. {@link FilterParser} builds it from text,
 * {@link Binder} resolves its field references for one kind of query, and each store compiles the bound
 * tree to its own query language with bind parameters.
 */
public sealed interface Expr {

  /** Comparison operators. */
  enum Op {
    EQ("="),
    NE("!="),
    LT("<"),
    LE("<="),
    GT(">"),
    GE(">=");

    public final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }
  }

  /** All of the parts hold. */
  record And(List<Expr> parts) implements Expr {
    public And {
      parts = List.copyOf(parts);
    }
  }

  /** At least one part holds. */
  record Or(List<Expr> parts) implements Expr {
    public Or {
      parts = List.copyOf(parts);
    }
  }

  /** The part does not hold. */
  record Not(Expr part) implements Expr {
    public Not {
      Objects.requireNonNull(part);
    }
  }

  /**
   * {@code field op value}. Values compare only with values of the same type (numbers with numbers,
   * strings with strings, booleans with booleans, times with times); a missing attribute or a value of
   * another type makes the comparison false. {@code = null} / {@code != null} test for an explicit null.
   */
  record Compare(Ref field, Op op, Literal value) implements Expr {}

  /** {@code field IN (v1, v2, ...)}: equal to one of the values. */
  record In(Ref field, List<Literal> values) implements Expr {
    public In {
      values = List.copyOf(values);
    }
  }

  /** {@code field LIKE 'pattern'}: a string matching the pattern; {@code %} any run, {@code _} one character. */
  record Like(Ref field, String pattern) implements Expr {}

  /** {@code field EXISTS}: the attribute is present (with any value, null included). */
  record Exists(Ref field) implements Expr {}

  /** {@code field CONTAINS value}: the attribute is a list with an element equal to the value. */
  record Contains(Ref field, Literal value) implements Expr {}
}
