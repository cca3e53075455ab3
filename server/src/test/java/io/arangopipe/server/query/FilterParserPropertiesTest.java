package io.arangopipe.server.query;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;

/** Properties of the filter parser: it never crashes, and printing then parsing gives the same tree. */
class FilterParserPropertiesTest {

  @Property(tries = 3000)
  void anyInputParsesOrFailsWithASyntaxError(@ForAll @StringLength(max = 200) String input) {
    try {
      FilterParser.parse(input);
    } catch (FilterSyntaxException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Property(tries = 3000)
  void filterLikeNoiseParsesOrFailsWithASyntaxError(@ForAll("noise") String input) {
    try {
      Expr e = FilterParser.parse(input);
      if (e != null) {
        // Whatever parses also prints and parses back to the same tree.
        assertThat(FilterParser.parse(FilterPrinter.print(e))).isEqualTo(e);
      }
    } catch (FilterSyntaxException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Property(tries = 2000)
  void printingThenParsingRoundTrips(@ForAll("exprs") Expr e) {
    String text = FilterPrinter.print(e);
    assertThat(FilterParser.parse(text)).as(text).isEqualTo(e);
  }

  @Provide
  Arbitrary<String> noise() {
    Arbitrary<String> tokens = Arbitraries.of("a", "b.c", "\"x y\"", "=", "!=", "<", "<=", ">", ">=", "(", ")", ",",
        "AND", "OR", "NOT", "IN", "LIKE", "EXISTS", "CONTAINS", "TRUE", "NULL", "TIMESTAMP", "'s'", "'it''s'",
        "1", "-2.5", "1e3", "'2024-01-01'", ".", "'", "\"", "\\", "%", "\u0000", "é");
    return tokens.list().ofMaxSize(25).map(l -> String.join(" ", l));
  }

  @Provide
  Arbitrary<Expr> exprs() {
    return expr(4);
  }

  private Arbitrary<Expr> expr(int depth) {
    if (depth == 0) {
      return leaf();
    }
    Arbitrary<Expr> sub = Arbitraries.lazy(() -> expr(depth - 1));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, leaf()),
        net.jqwik.api.Tuple.of(1, sub.list().ofMinSize(2).ofMaxSize(3).map(Expr.And::new)),
        net.jqwik.api.Tuple.of(1, sub.list().ofMinSize(2).ofMaxSize(3).map(Expr.Or::new)),
        net.jqwik.api.Tuple.of(1, sub.map(Expr.Not::new)));
  }

  private Arbitrary<Expr> leaf() {
    Arbitrary<Ref> ref = segment().list().ofMinSize(1).ofMaxSize(4).map(Ref.Raw::new);
    return Arbitraries.oneOf(
        net.jqwik.api.Combinators.combine(ref, Arbitraries.of(Expr.Op.values()), literal()).as(Expr.Compare::new),
        net.jqwik.api.Combinators.combine(ref, literal().list().ofMinSize(1).ofMaxSize(4)).as(Expr.In::new),
        net.jqwik.api.Combinators.combine(ref, Arbitraries.strings().ofMaxLength(10)).as(Expr.Like::new),
        ref.map(Expr.Exists::new),
        net.jqwik.api.Combinators.combine(ref, literal()).as(Expr.Contains::new));
  }

  private Arbitrary<String> segment() {
    return Arbitraries.oneOf(
        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8),
        Arbitraries.of("and", "not", "in", "status", "fixed acidity", "a.b", "x\"y", "_k", "dev-perf"),
        Arbitraries.strings().ofMinLength(1).ofMaxLength(6).filter(s -> !s.isBlank() || !s.isEmpty()));
  }

  private Arbitrary<Literal> literal() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(12).map(Literal.Str::new),
        Arbitraries.doubles().between(-1e18, 1e18).map(Literal.Num::new),
        Arbitraries.longs().between(-1_000_000, 1_000_000).map(l -> new Literal.Num(l)),
        Arbitraries.of(true, false).map(Literal.Bool::new),
        Arbitraries.just(new Literal.Null()),
        Arbitraries.longs().between(0, 16_000_000_000L).map(s -> new Literal.Time(Instant.ofEpochSecond(s))),
        Arbitraries.just(new Literal.Time(Instant.parse("2024-01-31T12:00:00.123456789Z"))));
  }
}
