package io.arangopipe.server.store.arangodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.Binder;
import io.arangopipe.server.query.Cursor;
import io.arangopipe.server.query.Expr;
import io.arangopipe.server.query.FilterParser;
import io.arangopipe.server.query.OrderSpec;
import io.arangopipe.server.query.Ref;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.Field;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The AQL the store runs, checked without a server: the text and its bind parameters. */
class AqlCompilerTest {

  /** Characters the generated text may hold: keywords, variables, placeholders, operators, constants. */
  private static final Pattern SAFE_TEXT = Pattern.compile("[A-Za-z0-9_@ .,()\\[\\]{}<>=!?:*\"/%+-]*");

  private static Aql entities(String filter) {
    Expr e = Binder.bind(FilterParser.parse(filter), Binder.Context.ENTITIES);
    return AqlCompiler.searchVertices("datasets", "datasets", List.of(), e, OrderSpec.BY_KEY, null, 10);
  }

  private static Aql runs(String filter) {
    Expr e = Binder.bind(FilterParser.parse(filter), Binder.Context.RUNS);
    return AqlCompiler.searchRuns("p1", e, OrderSpec.BY_KEY, null, 10);
  }

  private static void safe(Aql q) {
    assertThat(q.text()).matches(SAFE_TEXT);
  }

  @Test
  void comparisonsOnNumbersAndStringsAreTypeStrict() {
    Aql q = entities("stats.rows >= 3");
    assertThat(q.text()).contains("FILTER (IS_NUMBER(d.@p").contains(" >= @v");
    assertThat(q.bindVars()).containsValue(List.of("stats", "rows")).containsValue(3.0);
    Aql s = entities("owner < 'm'");
    assertThat(s.text()).contains("IS_STRING(d.@p").contains(" < @v");
    assertThat(s.bindVars()).containsValue("m").containsValue(List.of("owner"));
    for (String op : List.of("=", "!=", "<", "<=", ">", ">=")) {
      String aql = op.equals("=") ? "==" : op;
      assertThat(entities("x " + op + " 1").text()).contains(" " + aql + " @v");
    }
    safe(q);
    safe(s);
  }

  @Test
  void nullAndBooleansCompareByEqualityOnly() {
    Aql isNull = entities("x = NULL");
    assertThat(isNull.text()).contains("IS_OBJECT(d) AND HAS(d, @v").contains("== null");
    assertThat(isNull.bindVars()).containsValue("x");
    assertThat(entities("x != NULL").text()).contains("(d.@p").contains(" != null)");
    Aql t = entities("flag = TRUE");
    assertThat(t.bindVars()).containsValue(true);
    Aql notTrue = entities("flag != TRUE");
    assertThat(notTrue.bindVars()).containsValue(false).doesNotContainValue(true);
    Aql nested = entities("a.b.c = NULL");
    assertThat(nested.text()).contains("IS_OBJECT(d.@p").contains("HAS(d.@p");
    assertThat(nested.bindVars()).containsValue(List.of("a", "b")).containsValue("c");
  }

  @Test
  void timesCompareAsFixedWidthStringsOrSystemMicroseconds() {
    Aql doc = entities("start_time >= TIMESTAMP '2024-01-31'");
    assertThat(doc.bindVars()).containsValue("2024-01-31T00:00:00.000000Z");
    Aql sys = entities("create_time < TIMESTAMP '2024-01-31T00:00:01Z'");
    assertThat(sys.text()).contains("d.arangopipe.create_time < @v");
    assertThat(sys.bindVars()).containsValue(1_706_659_201_000_000L);
  }

  @Test
  void systemFields() {
    assertThat(entities("name = 'x'").text()).contains("IS_STRING(d.arangopipe.name) AND d.arangopipe.name == @v");
    assertThat(entities("project = 'x'").text()).contains("d.arangopipe.project == @v");
    assertThat(entities("creator = 'x'").text()).contains("d.arangopipe.creator == @v");
    assertThat(entities("key = 'x'").text()).contains("d._key == @v");
    Aql id = entities("id = 'datasets/x'");
    assertThat(id.text()).contains("CONCAT(@v").contains("d._key");
    assertThat(id.bindVars()).containsValue("datasets").containsValue("datasets/x");
    assertThat(entities("name = NULL").text()).contains("(d.arangopipe.name == null)");
    assertThat(entities("name = 3").text()).contains("FILTER false");
    assertThat(entities("name EXISTS").text()).contains("IS_STRING(d.arangopipe.name)");
  }

  @Test
  void inLikeExistsContainsAndBooleanLogic() {
    Aql in = entities("x IN (1, 'a', TRUE)");
    assertThat(in.text()).contains(" OR ");
    assertThat(in.bindVars()).containsValue(1.0).containsValue("a").containsValue(true);
    Aql like = entities("name LIKE 'wine%' AND x LIKE 'a\\_b'");
    assertThat(like.text()).contains("LIKE(d.arangopipe.name, @v").contains(", false)");
    assertThat(like.bindVars()).containsValue("wine%").containsValue("a\\_b");
    Aql exists = entities("stats.rows EXISTS");
    assertThat(exists.text()).contains("IS_OBJECT(d.@p").contains("HAS(d.@p");
    Aql contains = entities("features CONTAINS 'median_income'");
    assertThat(contains.text()).contains("IS_ARRAY(d.@p").contains("@v").contains(" IN d.@p");
    Aql logic = entities("NOT (a = 1 OR b = 2) AND c = 3");
    assertThat(logic.text()).contains("(NOT ((IS_NUMBER").contains(" OR ").contains(" AND ");
    safe(in);
    safe(like);
    safe(logic);
  }

  @Test
  void reservedTopLevelAttributesLiveUnderTheSystemObject() {
    Aql q = entities("\"_key\" = 'x' AND arangopipe.y = 1 AND plain = 1");
    assertThat(q.bindVars()).containsValue(List.of("arangopipe", "reserved", "arangopipe", "y"))
        .containsValue(List.of("plain"));
    Aql k = entities("document.\"_key\" = 'x'");
    assertThat(k.bindVars()).containsValue(List.of("arangopipe", "reserved", "_key"));
  }

  @Test
  void runSearchesJoinTheLinkedEntitiesWithCollectionParameters() {
    Aql q = runs("devperf.rmse < 0.3 AND params.alpha >= 0.001 AND model.name = 'lasso-v1' AND dataset.name LIKE 'w%'");
    assertThat(q.text()).startsWith("FOR r IN @@c").contains("LET mp = FIRST(FOR e IN @@c")
        .contains("IS_NUMBER(dp.@p").contains("IS_NUMBER(mp.@p").contains("m.arangopipe.name")
        .contains("LIKE(ds.arangopipe.name").contains("FILTER r.arangopipe.project == @v");
    assertThat(q.bindVars()).containsEntry("@c0", "run").containsValue("run_modelparams").containsValue("models")
        .containsValue("p1");
    safe(q);
  }

  @Test
  void orderingPutsMissingValuesLastAndPagesByKeyset() {
    Ref.Bound f = Ref.Bound.doc(Ref.Source.SELF, List.of("score"));
    Aql q = AqlCompiler.searchVertices("things", "things", List.of(), null, new OrderSpec(f, true),
        new Cursor(2L, "k7"), 5);
    assertThat(q.text()).contains(" == null OR ").contains(" < @v").contains("._key > @v")
        .contains("SORT (").contains(" == null), ").contains(" DESC, d._key LIMIT @v");
    assertThat(q.bindVars()).containsValue(2L).containsValue("k7").containsValue(5L);
    Aql nulls = AqlCompiler.searchVertices("things", "things", List.of(), null, new OrderSpec(f, false),
        new Cursor(null, "k7"), 5);
    assertThat(nulls.text()).contains("== null AND d._key > @v");
    Aql byKey = AqlCompiler.searchVertices("things", "things", List.of(), null, OrderSpec.BY_KEY,
        new Cursor(null, "k7"), 5);
    assertThat(byKey.text()).contains("FILTER d._key > @v").contains("SORT d._key LIMIT");
  }

  @Test
  void equalityConditionsOfSimpleLookups() {
    Aql q = AqlCompiler.searchVertices("run", "run", List.of(
        new Condition(new Field.Doc(List.of("tag")), "t"),
        new Condition(new Field.Doc(List.of("n")), 3L),
        new Condition(new Field.Doc(List.of("nil")), null),
        new Condition(new Field.Name(), "x"),
        new Condition(new Field.Project(), 7L)), null, OrderSpec.BY_KEY, null, 1);
    assertThat(q.text()).contains("(d.@p").contains("IS_NUMBER(d.@p").contains("HAS(d, @v")
        .contains("d.arangopipe.name == @v").contains("FILTER false");
  }

  @Test
  void aggregatesCollectAndFinishAsTheSqlStoreDoes() {
    Ref.Bound est = Ref.Bound.doc(Ref.Source.MODEL, List.of("estimator"));
    Ref.Bound rmse = Ref.Bound.doc(Ref.Source.DEVPERF, List.of("rmse"));
    Expr cond = Binder.bind(FilterParser.parse("featureset.features CONTAINS 'x'"), Binder.Context.RUNS);
    Aggregation.Query a = new Aggregation.Query(null, "wine", null,
        List.of(new Aggregation.GroupKey(est, Aggregation.Bucket.NONE, null),
            new Aggregation.GroupKey(null, null, cond),
            new Aggregation.GroupKey(Ref.Bound.system(Ref.Source.RUN, Ref.SystemField.CREATE_TIME),
                Aggregation.Bucket.YEAR, null)),
        List.of(new Aggregation.Aggregate(Aggregation.Function.COUNT, null),
            new Aggregation.Aggregate(Aggregation.Function.COUNT_DISTINCT, rmse),
            new Aggregation.Aggregate(Aggregation.Function.MIN, rmse),
            new Aggregation.Aggregate(Aggregation.Function.MAX, rmse),
            new Aggregation.Aggregate(Aggregation.Function.MEAN, rmse),
            new Aggregation.Aggregate(Aggregation.Function.SUM, rmse),
            new Aggregation.Aggregate(Aggregation.Function.STDDEV, rmse)),
        4, true, 20);
    Aql q = AqlCompiler.aggregate(a, null);
    assertThat(q.text()).contains("COLLECT g0 = ").contains(", g1 = (").contains(" ? true : false)")
        .contains("DATE_FORMAT(FLOOR(").contains("AGGREGATE a0 = LENGTH(1), a1 = UNIQUE(")
        .contains("a2 = MIN(").contains("a3 = MAX(").contains("a4 = AVERAGE(").contains("n5 = SUM(")
        .contains("q6 = SUM(").contains("SORT o4 == null, o4 DESC, g0, g1, g2").contains("RETURN { k: [g0, g1, g2]");
    assertThat(q.bindVars()).containsValue("%yyyy").containsValue("wine").containsValue(20L);
    safe(q);
    Aggregation.Query entities = new Aggregation.Query("models", "", null, List.of(),
        List.of(new Aggregation.Aggregate(Aggregation.Function.COUNT, null)), -1, false, 1);
    Aql e = AqlCompiler.aggregate(entities, "models");
    assertThat(e.text()).startsWith("FOR d IN @@c").contains("COLLECT  AGGREGATE a0 = LENGTH(1)");
  }

  @Test
  void seedDocumentsAreAdoptedWithTheirNameAttribute() {
    Aql q = AqlCompiler.adoptSeedVertices("datasets");
    assertThat(q.text()).isEqualTo("FOR d IN @@c0 FILTER !IS_OBJECT(d.arangopipe) UPDATE d WITH { arangopipe: {"
        + " name: IS_STRING(d.name) ? d.name : null, project: \"\", create_time: 0, update_time: 0, creator: \"\" } }"
        + " IN @@c0 OPTIONS { mergeObjects: false }");
    assertThat(q.bindVars()).containsExactly(Map.entry("@c0", "datasets"));
  }

  @Test
  void collectionNamesMustFollowTheIdentifierRule() {
    for (String bad : List.of("a` RETURN 1", "_system", "x/y", "a b", "1abc", "", "a\"b", "@x", "a//b")) {
      assertThatThrownBy(() -> AqlCompiler.byKey(bad, "k")).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(AqlCompiler.byKey("arangopipe_users", "k").bindVars()).containsEntry("@c0", "arangopipe_users");
  }

  @ParameterizedTest
  @ValueSource(strings = {"x' OR 1=1 --", "\" RETURN 1 //", "a` FOR d IN _users RETURN d `", "@@c0", "@v0",
      "}) REMOVE d IN run //", "/* c */", "x\\\" || true", "RETURN DOCUMENT('_users/admin')", "\u0000\n\r"})
  void hostileTextIsOnlyEverABindParameter(String evil) {
    String quoted = evil.replace("'", "''");
    Aql value = entities("owner = '" + quoted + "' OR name LIKE '" + quoted + "' OR tags CONTAINS '" + quoted + "'");
    Ref.Bound field = Ref.Bound.doc(Ref.Source.SELF, List.of(evil, "inner"));
    Aql path = AqlCompiler.searchVertices("things", "things", List.of(), new Expr.And(List.of(
        new Expr.Exists(field), new Expr.Like(field, evil))), new OrderSpec(field, false), new Cursor(evil, evil), 2);
    Aql runs = AqlCompiler.searchRuns(evil, null, OrderSpec.BY_KEY, new Cursor(evil, evil), 3);
    Aql lookups = AqlCompiler.searchVertices("things", "things", List.of(new Condition(new Field.Doc(List.of(evil)),
        evil), new Condition(new Field.Name(), evil)), null, OrderSpec.BY_KEY, null, 1);
    Aql history = AqlCompiler.history(evil, 0, 1);
    Aql key = AqlCompiler.byKey("things", evil);
    Aql insert = AqlCompiler.insert("things", Map.of(evil, evil));
    for (Aql q : List.of(value, path, runs, lookups, history, key, insert)) {
      String stripped = evil.strip();
      // ("@@c0" and "@v0" are placeholders' own spelling: for them the bind parameters are what counts.)
      if (stripped.length() > 2 && !stripped.matches("@+[a-z]\\d+")) {
        assertThat(q.text()).doesNotContain(stripped);
      }
      assertThat(q.text()).doesNotContain("'").doesNotContain("`").doesNotContain("//").doesNotContain("/*");
      safe(q);
      assertThat(q.bindVars().toString()).isNotEmpty();
    }
    assertThat(value.bindVars()).containsValue(evil);
    assertThat(path.bindVars()).containsValue(List.of(evil, "inner")).containsValue(evil);
    assertThat(lookups.bindVars()).containsValue(List.of(evil)).containsValue(evil);
  }
}
