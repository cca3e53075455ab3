package io.arangopipe.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.core.Analytics;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.server.core.Views;
import io.arangopipe.server.query.Aggregation;
import io.arangopipe.server.query.RunRow;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every store must answer for the filter language, ordering, keyset paging and aggregates. It
 * drives the store through the core, so the queries are the ones users send; each store's test class
 * extends it.
 */
public abstract class QueryContract {

  @TempDir
  protected Path dir;

  protected GraphStore store;
  protected MetadataCore core;
  protected Analytics analytics;

  protected abstract GraphStore open(Path dir);

  private static final io.arangopipe.server.core.Principal ANY = io.arangopipe.server.core.Principal.ANONYMOUS;

  @BeforeEach
  void setUp() {
    store = open(dir);
    core = new MetadataCore(store, Clock.systemUTC());
    analytics = new Analytics(store, core);
    core.addVertexType(ANY, "things", null);
    insert("a", "alpha", "p1", doc("score", 3, "tag", "x", "flag", true, "tags", List.of("red", "blue"),
        "nested", doc("v", 1.5), "t", "2024-01-02T00:00:00.000000Z", "fixed acidity", 7.4));
    insert("b", "beta", "p2", doc("score", 7.5, "tag", "y", "flag", false, "tags", List.of("blue"),
        "nested", doc("v", 2), "t", "2024-03-01T00:00:00.000000Z", "fixed acidity", 6.1));
    insert("c", "gamma", "p1", doc("score", "9", "tag", null, "tags", "red"));
    insert("d", null, "", doc());
  }

  @AfterEach
  void tearDown() {
    if (store != null) {
      store.close();
    }
  }

  private void insert(String key, String name, String project, Map<String, Object> doc) {
    store.write(tx -> {
      Instant now = Instant.now();
      tx.insertVertex(new VertexDoc(new EntityId("things", key), name, project, doc, now, now, "tester"));
      return null;
    });
  }

  protected static Map<String, Object> doc(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], Json.normalize(kv[i + 1]));
    }
    return m;
  }

  private List<String> where(String filter) {
    return analytics.listEntities(ANY, "things", "", filter, "", List.of(), 100, "").items().stream()
        .map(v -> v.id().key()).toList();
  }

  private List<String> ordered(String orderBy, String filter) {
    List<String> out = new ArrayList<>();
    String token = "";
    do {
      Views.Page<VertexDoc> page = analytics.listEntities(ANY, "things", "", filter, orderBy, List.of(), 1, token);
      page.items().forEach(v -> out.add(v.id().key()));
      token = page.nextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  @Test
  void comparisonsAreTypeStrictAndMissingFieldsAreFalse() {
    assertThat(where("score = 3")).containsExactly("a");
    assertThat(where("score = 3.0")).containsExactly("a");
    assertThat(where("score != 3")).containsExactly("b");
    assertThat(where("NOT score = 3")).containsExactly("b", "c", "d");
    assertThat(where("score < 5")).containsExactly("a");
    assertThat(where("score <= 7.5")).containsExactly("a", "b");
    assertThat(where("score > 3")).containsExactly("b");
    assertThat(where("score >= 3")).containsExactly("a", "b");
    assertThat(where("score > '5'")).containsExactly("c");
    assertThat(where("score = '9'")).containsExactly("c");
    assertThat(where("nested.v > 1.6")).containsExactly("b");
    assertThat(where("\"fixed acidity\" > 7")).containsExactly("a");
    assertThat(where("flag = TRUE")).containsExactly("a");
    assertThat(where("flag != TRUE")).containsExactly("b");
    assertThat(where("flag = FALSE")).containsExactly("b");
  }

  @Test
  void nullExistsInLikeAndContains() {
    assertThat(where("tag EXISTS")).containsExactly("a", "b", "c");
    assertThat(where("NOT tag EXISTS")).containsExactly("d");
    assertThat(where("tag = NULL")).containsExactly("c");
    assertThat(where("tag != NULL")).containsExactly("a", "b");
    assertThat(where("tag IN ('x', 'y', 'z')")).containsExactly("a", "b");
    assertThat(where("tag NOT IN ('x')")).containsExactly("b", "c", "d");
    assertThat(where("name LIKE 'a%'")).containsExactly("a");
    assertThat(where("name LIKE '%a'")).containsExactly("a", "b", "c");
    assertThat(where("name LIKE '_eta'")).containsExactly("b");
    assertThat(where("name LIKE 'A%'")).isEmpty();
    assertThat(where("tag LIKE '%'")).containsExactly("a", "b");
    assertThat(where("tags CONTAINS 'red'")).containsExactly("a");
    assertThat(where("tags CONTAINS 'blue'")).containsExactly("a", "b");
    assertThat(where("NOT tags CONTAINS 'red'")).containsExactly("b", "c", "d");
  }

  @Test
  void systemFieldsTimesAndBooleanLogic() {
    assertThat(where("project = 'p1'")).containsExactly("a", "c");
    assertThat(where("project = 'p1' AND (score = 3 OR tag = NULL)")).containsExactly("a", "c");
    assertThat(where("project = 'p1' OR project = 'p2'")).containsExactly("a", "b", "c");
    assertThat(where("name = NULL")).containsExactly("d");
    assertThat(where("id = 'things/b'")).containsExactly("b");
    assertThat(where("key IN ('a', 'd')")).containsExactly("a", "d");
    assertThat(where("t >= TIMESTAMP '2024-02-01'")).containsExactly("b");
    assertThat(where("t < TIMESTAMP '2024-02-01T00:00:00Z'")).containsExactly("a");
    assertThat(where("create_time >= TIMESTAMP '2000-01-01'")).containsExactly("a", "b", "c", "d");
    assertThat(where("create_time < TIMESTAMP '2000-01-01'")).isEmpty();
    assertThat(where("creator = 'tester' AND NOT (name = 'alpha' OR name = 'beta')")).containsExactly("c", "d");
    assertThat(where("document.score = 3")).containsExactly("a");
  }

  @Test
  void hostileTextIsOnlyEverAValue() {
    assertThat(where("name = 'x'' OR ''1''=''1'")).isEmpty();
    assertThat(where("\"'); DROP TABLE vertices; --\" = 1")).isEmpty();
    assertThat(where("name LIKE '%''; DELETE FROM vertices; --'")).isEmpty();
    assertThat(where("score = 3")).containsExactly("a");
  }

  @Test
  void orderingPutsMissingValuesLastAndPagesByKeyset() {
    assertThat(ordered("score", "")).containsExactly("a", "b", "c", "d");
    assertThat(ordered("score DESC", "")).containsExactly("c", "b", "a", "d");
    assertThat(ordered("name", "")).containsExactly("a", "b", "c", "d");
    assertThat(ordered("name DESC", "")).containsExactly("c", "b", "a", "d");
    assertThat(ordered("nested.v DESC", "")).containsExactly("b", "a", "c", "d");
    assertThat(ordered("key DESC", "")).containsExactly("d", "c", "b", "a");
    assertThat(ordered("flag", "")).containsExactly("b", "a", "c", "d");
    assertThat(ordered("score", "tags EXISTS")).containsExactly("a", "b", "c");
  }

  @Test
  void badFiltersAreInvalidArgumentsWithThePosition() {
    assertThatThrownBy(() -> where("score >")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("position 7");
    assertThatThrownBy(() -> where("score = 'open")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("unclosed string");
    assertThatThrownBy(() -> where("create_time > 5")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("TIMESTAMP");
    assertThatThrownBy(() -> where("score < NULL")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> ordered("score SIDEWAYS", "")).isInstanceOf(InvalidArgumentException.class);
  }

  // ---- runs --------------------------------------------------------------------------------------

  /** Three runs on two datasets, two featuresets and two model types. */
  private void pipeline() {
    core.createProject(ANY, "wine", Map.of(), null);
    VertexDoc red = core.registerDataset(ANY, "red-wine", "wine", doc("rows", 1599), null);
    VertexDoc white = core.registerDataset(ANY, "white-wine", "wine", doc("rows", 4898), null);
    VertexDoc fsA = core.registerFeatureset(ANY, "all-attrs", "wine", red.id().toString(),
        doc("transform", "scale", "attributes", List.of("fixed acidity", "alcohol")), null);
    VertexDoc fsB = core.registerFeatureset(ANY, "no-acidity", "wine", white.id().toString(),
        doc("transform", "log", "attributes", List.of("alcohol")), null);
    VertexDoc lasso = core.registerModel(ANY, "lasso", "wine", doc("type", "LASSO"), null);
    VertexDoc rf = core.registerModel(ANY, "forest", "wine", doc("type", "RandomForest"), null);
    run("r1", "2023-06-01T00:00:00Z", lasso, red, fsA, 0.5, 0.01);
    run("r2", "2024-02-01T00:00:00Z", rf, red, fsA, 0.3, 0.1);
    run("r3", "2024-03-05T00:00:00Z", rf, white, fsB, 0.4, 0.1);
  }

  private void run(String id, String start, VertexDoc model, VertexDoc ds, VertexDoc fs, double rmse, double alpha) {
    core.logRun(ANY, new MetadataCore.RunSpec(id, "wine", "nightly", "", Instant.parse(start), null, null,
        model.id().toString(), ds.id().toString(), fs.id().toString(), doc("alpha", alpha),
        doc("rmse", rmse), Map.of()), null);
  }

  private List<String> runs(String filter, String order) {
    List<String> out = new ArrayList<>();
    String token = "";
    do {
      Views.Page<RunRow> page = analytics.searchRuns(ANY, "wine", filter, order, 2, token);
      page.items().forEach(r -> out.add(r.run().id().key()));
      token = page.nextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  @Test
  void runSearchFiltersAndOrdersByJoinedFields() {
    pipeline();
    assertThat(runs("", "")).containsExactly("r1", "r2", "r3");
    assertThat(runs("devperf.rmse < 0.45", "devperf.rmse")).containsExactly("r2", "r3");
    assertThat(runs("modelparams.alpha = 0.1 AND model.type = 'RandomForest'", "")).containsExactly("r2", "r3");
    assertThat(runs("dataset.name = 'red-wine'", "devperf.rmse DESC")).containsExactly("r1", "r2");
    assertThat(runs("featureset.attributes CONTAINS 'fixed acidity'", "")).containsExactly("r1", "r2");
    assertThat(runs("start_time >= TIMESTAMP '2024-01-01'", "start_time DESC")).containsExactly("r3", "r2");
    assertThat(runs("run.tag = 'nightly' AND perf.rmse EXISTS", "params.alpha DESC")).containsExactly("r2", "r3",
        "r1");
    assertThat(runs("model = 'models/nope'", "")).isEmpty();
    assertThatThrownBy(() -> runs("", "params.alpha, devperf.rmse")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("position 12");
  }

  @Test
  void aRunRowCarriesEverythingItIsLinkedTo() {
    pipeline();
    RunRow r = analytics.searchRuns(ANY, "wine", "run.key = 'r3'", "", 10, "").items().get(0);
    assertThat(r.dataset().name()).isEqualTo("white-wine");
    assertThat(r.featureset().name()).isEqualTo("no-acidity");
    assertThat(r.model().name()).isEqualTo("forest");
    assertThat(r.modelParams().doc()).containsEntry("alpha", 0.1);
    assertThat(r.devPerf().doc()).containsEntry("rmse", 0.4);
  }

  @Test
  void aggregatesGroupCountAndSummarise() {
    pipeline();
    // a. modelling techniques used for the task, with counts.
    Analytics.AggregateResult byType = analytics.aggregate(ANY, null, "wine", "",
        List.of(new Analytics.GroupSpec("model.type", Aggregation.Bucket.NONE, null)),
        List.of(new Analytics.AggregateSpec(Aggregation.Function.COUNT, null),
            new Analytics.AggregateSpec(Aggregation.Function.MEAN, "devperf.rmse"),
            new Analytics.AggregateSpec(Aggregation.Function.MIN, "devperf.rmse"),
            new Analytics.AggregateSpec(Aggregation.Function.MAX, "devperf.rmse"),
            new Analytics.AggregateSpec(Aggregation.Function.SUM, "devperf.rmse"),
            new Analytics.AggregateSpec(Aggregation.Function.STDDEV, "devperf.rmse"),
            new Analytics.AggregateSpec(Aggregation.Function.COUNT_DISTINCT, "dataset.id")),
        -1, false, 0);
    assertThat(byType.rows()).hasSize(2);
    Aggregation.Row lasso = byType.rows().get(0);
    Aggregation.Row forest = byType.rows().get(1);
    assertThat(lasso.keys()).containsExactly("LASSO");
    assertThat(lasso.values().get(0)).isEqualTo(1L);
    assertThat(lasso.values().get(5)).isNull(); // one value: no sample deviation
    assertThat(forest.keys()).containsExactly("RandomForest");
    assertThat(forest.values().get(0)).isEqualTo(2L);
    assertThat((Double) forest.values().get(1)).isCloseTo(0.35, within());
    assertThat((Double) forest.values().get(2)).isCloseTo(0.3, within());
    assertThat((Double) forest.values().get(3)).isCloseTo(0.4, within());
    assertThat((Double) forest.values().get(4)).isCloseTo(0.7, within());
    assertThat((Double) forest.values().get(5)).isCloseTo(Math.sqrt(0.005), within());
    assertThat(forest.values().get(6)).isEqualTo(2L);
    assertThat(byType.groupColumns()).containsExactly("model.type");

    // d. runs whose featureset has an attribute against runs whose featureset lacks it.
    Analytics.AggregateResult split = analytics.aggregate(ANY, null, "wine", "",
        List.of(new Analytics.GroupSpec(null, null, "featureset.attributes CONTAINS 'fixed acidity'")),
        List.of(new Analytics.AggregateSpec(Aggregation.Function.COUNT, null),
            new Analytics.AggregateSpec(Aggregation.Function.MEAN, "devperf.rmse")), -1, false, 0);
    assertThat(split.rows()).extracting(Aggregation.Row::keys).containsExactly(List.of(false), List.of(true));
    assertThat(split.rows().get(1).values().get(0)).isEqualTo(2L);

    // e. datasets used per year.
    Analytics.AggregateResult perYear = analytics.aggregate(ANY, null, "wine", "",
        List.of(new Analytics.GroupSpec("start_time", Aggregation.Bucket.YEAR, null)),
        List.of(new Analytics.AggregateSpec(Aggregation.Function.COUNT_DISTINCT, "dataset.id")), -1, false, 0);
    assertThat(perYear.rows()).extracting(Aggregation.Row::keys).containsExactly(List.of("2023"), List.of("2024"));
    assertThat(perYear.rows().get(1).values()).containsExactly(2L);

    // c. featuresets ranked by their best run, best first.
    Analytics.AggregateResult ranked = analytics.aggregate(ANY, null, "wine", "",
        List.of(new Analytics.GroupSpec("featureset.name", Aggregation.Bucket.NONE, null)),
        List.of(new Analytics.AggregateSpec(Aggregation.Function.MIN, "devperf.rmse")), 0, false, 1);
    assertThat(ranked.rows()).hasSize(1);
    assertThat(ranked.rows().get(0).keys()).containsExactly("all-attrs");
    assertThat(ranked.truncated()).isTrue();

    // Entities: models per type, by month of creation.
    Analytics.AggregateResult models = analytics.aggregate(ANY, "models", "wine", "type != 'none'",
        List.of(new Analytics.GroupSpec("type", Aggregation.Bucket.NONE, null),
            new Analytics.GroupSpec("create_time", Aggregation.Bucket.MONTH, null)),
        List.of(new Analytics.AggregateSpec(Aggregation.Function.COUNT, null)), -1, false, 0);
    assertThat(models.rows()).hasSize(2);
    assertThat((String) models.rows().get(0).keys().get(1)).matches("\\d{4}-\\d{2}");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
