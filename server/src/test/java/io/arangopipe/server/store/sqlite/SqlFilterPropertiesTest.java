package io.arangopipe.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.query.Binder;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.FilterParser;
import io.arangopipe.server.query.Ref.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** No text from a filter ever reaches the SQL: every name and value travels as a bind parameter. */
class SqlFilterPropertiesTest {

  private static final Map<Source, String> RUN_ALIASES = Map.of(Source.RUN, "r", Source.MODELPARAMS, "p",
      Source.DEVPERF, "pf", Source.DATASET, "d", Source.FEATURESET, "f", Source.MODEL, "m");

  @Property(tries = 2000)
  void userTextOnlyEverTravelsAsParameters(@ForAll("filters") String filter) {
    Expr bound;
    try {
      bound = Binder.bind(FilterParser.parse(filter), Binder.Context.RUNS);
    } catch (io.arangopipe.server.query.FilterSyntaxException e) {
      return;
    }
    List<Object> params = new ArrayList<>();
    String sql = new SqlFilter(RUN_ALIASES, params).compile(bound);
    assertThat(sql).doesNotContain("zq").doesNotContain("DROP").doesNotContain(";");
    assertThat(sql.chars().filter(c -> c == '?').count()).isEqualTo(params.size());
  }

  @Provide
  Arbitrary<String> filters() {
    Arbitrary<String> name = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(5).map(s -> "zq" + s);
    Arbitrary<String> field = Arbitraries.oneOf(name,
        name.map(n -> "devperf." + n), name.map(n -> "\"" + n + " x; DROP\""),
        Arbitraries.of("name", "create_time", "model.type", "dataset"));
    Arbitrary<String> value = Arbitraries.oneOf(
        name.map(n -> "'" + n + "''; DROP TABLE vertices; --'"),
        Arbitraries.doubles().between(-10, 10).map(String::valueOf),
        Arbitraries.of("TRUE", "FALSE", "NULL", "TIMESTAMP '2024-01-01'"));
    Arbitrary<String> leaf = Arbitraries.oneOf(
        net.jqwik.api.Combinators.combine(field, Arbitraries.of("=", "!=", "<", ">=", "<="), value)
            .as((f, o, v) -> f + " " + o + " " + v),
        net.jqwik.api.Combinators.combine(field, value.list().ofMinSize(1).ofMaxSize(3))
            .as((f, vs) -> f + " IN (" + String.join(", ", vs) + ")"),
        net.jqwik.api.Combinators.combine(field, name).as((f, n) -> f + " LIKE '%" + n + "_'"),
        field.map(f -> f + " EXISTS"),
        net.jqwik.api.Combinators.combine(field, value).as((f, v) -> f + " CONTAINS " + v));
    return leaf.list().ofMinSize(1).ofMaxSize(4).map(l -> {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          b.append(i % 2 == 0 ? " AND " : " OR NOT ");
        }
        b.append('(').append(l.get(i)).append(')');
      }
      return b.toString();
    });
  }
}
