package io.arangopipe.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.arangopipe.v1.*;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LineageService over gRPC: traversals, search, aggregates, the pipeline questions, audit. */
class LineageApiTest extends ApiTestBase {

  /** Two runs on one dataset, one deployed and serving. */
  private record World(Setup s, LogRunResponse good, LogRunResponse bad, Deployment dep) {}

  private World world() {
    Setup s = setup();
    LogRunResponse good = logRun(s, "good", "exp", "prod", 0.25);
    LogRunResponse bad = logRun(s, "bad", "exp", "", 0.75);
    Deployment dep = admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("prod")
        .build()).getDeployment();
    for (int i = 0; i < 3; i++) {
      tracking.logServingPerf(LogServingPerfRequest.newBuilder().setDeploymentTag("prod")
          .setMetrics(struct("rmse", 0.3 + i / 100.0))
          .setTime(Timestamp.newBuilder().setSeconds(1_800_000_000L + i)).build());
    }
    return new World(s, good, bad, dep);
  }

  @Test
  void impactFindsEveryDeploymentDownstreamWithItsLatestServingPerformance() {
    World w = world();
    GetImpactResponse r = lineage.getImpact(GetImpactRequest.newBuilder().setEntityId(w.s().dataset().getId())
        .build());
    assertThat(r.getDeploymentsList()).hasSize(1);
    ImpactedDeployment d = r.getDeployments(0);
    assertThat(d.getDeployment().getTag()).isEqualTo("prod");
    assertThat(d.getLatestServingPerf().getDocument().getFieldsOrThrow("rmse").getNumberValue()).isEqualTo(0.32);
    assertThat(d.getDistance()).isEqualTo(2); // dataset -> featureset -> deployment (the shortest way)
    assertThat(lineage.getImpact(GetImpactRequest.newBuilder().setEntityId(w.bad().getDevPerf().getId()).build())
        .getDeploymentsList()).isEmpty();
    fails(Status.Code.NOT_FOUND, () -> lineage.getImpact(GetImpactRequest.newBuilder()
        .setEntityId("datasets/nope").build()));
  }

  @Test
  void runRecipeHasEverythingToRedoTheRun() {
    World w = world();
    GetRunRecipeResponse r = lineage.getRunRecipe(GetRunRecipeRequest.newBuilder().setRunId("good").build());
    assertThat(r.getRun().getRunId()).isEqualTo("good");
    assertThat(r.getModelParams()).isEqualTo(w.good().getModelParams());
    assertThat(r.getDevPerf()).isEqualTo(w.good().getDevPerf());
    assertThat(r.getDataset()).isEqualTo(w.s().dataset());
    assertThat(r.getFeatureset()).isEqualTo(w.s().featureset());
    assertThat(r.getFeaturesetDataset()).isEqualTo(w.s().dataset());
    assertThat(r.getModel()).isEqualTo(w.s().model());
    assertThat(r.getProject().getName()).isEqualTo("housing");
    fails(Status.Code.NOT_FOUND, () -> lineage.getRunRecipe(GetRunRecipeRequest.newBuilder().setRunId("x").build()));
  }

  @Test
  void servingAgainstDevelopment() {
    World w = world();
    CompareServingToDevResponse r = lineage.compareServingToDev(CompareServingToDevRequest.newBuilder()
        .setProject("housing").setMaxPoints(2).build());
    assertThat(r.getDeploymentsList()).hasSize(1);
    DeploymentPerformance p = r.getDeployments(0);
    assertThat(p.getDevPerf()).isEqualTo(w.good().getDevPerf());
    assertThat(p.getServingPerfList()).extracting(e -> e.getDocument().getFieldsOrThrow("rmse").getNumberValue())
        .containsExactly(0.31, 0.32);
    fails(Status.Code.NOT_FOUND, () -> lineage.compareServingToDev(CompareServingToDevRequest.newBuilder()
        .setDeploymentTag("nope").build()));
  }

  @Test
  void historyShowsWhoCreatedAndWhoChangedWhat() {
    World w = world();
    admin.updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder().setDeploymentTag("prod")
        .setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE).build());
    GetHistoryResponse h = lineage.getHistory(GetHistoryRequest.newBuilder().setId(w.dep().getId()).build());
    assertThat(h.getEventsList()).extracting(HistoryEvent::getAction).containsExactly("CREATED", "STATUS_CHANGED");
    assertThat(h.getEvents(0).getActor()).isEqualTo("anonymous");
    Value change = h.getEvents(1).getChanges().getFieldsOrThrow("status");
    assertThat(change.getStructValue().getFieldsOrThrow("old").getStringValue()).isEqualTo("SCHEDULED");
    assertThat(change.getStructValue().getFieldsOrThrow("new").getStringValue()).isEqualTo("ACTIVE");
    GetHistoryResponse first = lineage.getHistory(GetHistoryRequest.newBuilder().setId(w.dep().getId())
        .setPageSize(1).build());
    assertThat(first.getEventsCount()).isEqualTo(1);
    GetHistoryResponse second = lineage.getHistory(GetHistoryRequest.newBuilder().setId(w.dep().getId())
        .setPageSize(1).setPageToken(first.getNextPageToken()).build());
    assertThat(second.getEvents(0).getAction()).isEqualTo("STATUS_CHANGED");
  }

  @Test
  void searchRunsOverGrpcWithFilterOrderAndPages() {
    world();
    for (int i = 0; i < 5; i++) {
      logRun(setupless(), "extra-" + i, "sweep", "", 0.4 + i / 100.0);
    }
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      SearchRunsResponse r = lineage.searchRuns(SearchRunsRequest.newBuilder().setProject("housing")
          .setFilter("devperf.rmse < 0.7 AND dataset.name = 'housing-2024'").setOrderBy("devperf.rmse DESC")
          .setPageSize(2).setPageToken(token).build());
      r.getRunsList().forEach(x -> ids.add(x.getRun().getRunId()));
      token = r.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(ids).containsExactly("extra-4", "extra-3", "extra-2", "extra-1", "extra-0", "good");
    SearchRunsResponse best = lineage.searchRuns(SearchRunsRequest.newBuilder().setProject("housing")
        .setFilter("model.type = 'LASSO'").setOrderBy("devperf.rmse").setPageSize(1).build());
    RunRecord rec = best.getRuns(0);
    assertThat(rec.getRun().getRunId()).isEqualTo("good");
    assertThat(rec.getModel().getName()).isEqualTo("lasso-v1");
    assertThat(rec.getModelParams().getDocument().getFieldsOrThrow("alpha").getNumberValue()).isEqualTo(0.001);
    assertThat(rec.getFeatureset().getName()).isEqualTo("housing-log");
    com.google.rpc.Status st = fails(Status.Code.INVALID_ARGUMENT, () -> lineage.searchRuns(
        SearchRunsRequest.newBuilder().setFilter("devperf.rmse <").build()));
    assertThat(st.getMessage()).startsWith("filter: ").contains("position 14");
    assertThat(badFieldOf(st)).isEqualTo("filter");
  }

  private Setup setupless() {
    Entity ds = tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("datasets")
        .setName("housing-2024").build()).getEntity();
    Entity fs = tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("featuresets")
        .setName("housing-log").build()).getEntity();
    Entity m = tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("models").setName("lasso-v1")
        .build()).getEntity();
    return new Setup(null, ds, fs, m);
  }

  @Test
  void aggregatesOverGrpc() {
    world();
    AggregateRunsResponse r = lineage.aggregateRuns(AggregateRunsRequest.newBuilder().setProject("housing")
        .addGroupBy(GroupBy.newBuilder().setField("model.type"))
        .addAggregates(Aggregate.newBuilder().setFunction(AggregateFunction.AGGREGATE_FUNCTION_COUNT))
        .addAggregates(Aggregate.newBuilder().setFunction(AggregateFunction.AGGREGATE_FUNCTION_MEAN)
            .setField("devperf.rmse"))
        .build());
    assertThat(r.getGroupColumnsList()).containsExactly("model.type");
    assertThat(r.getAggregateColumnsList()).containsExactly("count", "mean(devperf.rmse)");
    assertThat(r.getRowsList()).hasSize(1);
    assertThat(r.getRows(0).getGroupValues(0).getStringValue()).isEqualTo("LASSO");
    assertThat(r.getRows(0).getValues(0).getNumberValue()).isEqualTo(2);
    assertThat(r.getRows(0).getValues(1).getNumberValue()).isEqualTo(0.5);

    AggregateEntitiesResponse e = lineage.aggregateEntities(AggregateEntitiesRequest.newBuilder()
        .setCollection("servingperf").addAggregates(Aggregate.newBuilder()
            .setFunction(AggregateFunction.AGGREGATE_FUNCTION_MAX).setField("rmse")).build());
    assertThat(e.getRows(0).getValues(0).getNumberValue()).isEqualTo(0.32);
    fails(Status.Code.INVALID_ARGUMENT, () -> lineage.aggregateRuns(AggregateRunsRequest.newBuilder().build()));
    fails(Status.Code.INVALID_ARGUMENT, () -> lineage.aggregateRuns(AggregateRunsRequest.newBuilder()
        .addAggregates(Aggregate.newBuilder().setFunction(AggregateFunction.AGGREGATE_FUNCTION_MEAN)).build()));
    fails(Status.Code.NOT_FOUND, () -> lineage.aggregateEntities(AggregateEntitiesRequest.newBuilder()
        .setCollection("nope").addAggregates(Aggregate.newBuilder()
            .setFunction(AggregateFunction.AGGREGATE_FUNCTION_COUNT)).build()));
  }

  @Test
  void lineageFromAFilterWithTypeFiltersAndIdsOnly() {
    World w = world();
    GetLineageResponse r = lineage.getLineage(GetLineageRequest.newBuilder().setStartCollection("datasets")
        .setStartFilter("name LIKE 'housing-%'").setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM)
        .addVertexTypes("run").addVertexTypes("models").setIdsOnly(true).build());
    assertThat(ids(r)).containsExactlyInAnyOrder(w.s().dataset().getId(), "run/good", "run/bad",
        w.s().model().getId());
    assertThat(r.getNodesList()).allMatch(n -> !n.hasDocument());
    GetLineageResponse edgesOnly = lineage.getLineage(GetLineageRequest.newBuilder()
        .addStartIds(w.s().dataset().getId()).addStartIds(w.s().model().getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_UPSTREAM).addEdgeTypes("project_models").build());
    assertThat(ids(edgesOnly)).containsExactlyInAnyOrder(w.s().dataset().getId(), w.s().model().getId(),
        w.s().project().getId());
    fails(Status.Code.INVALID_ARGUMENT, () -> lineage.getLineage(GetLineageRequest.getDefaultInstance()));
    fails(Status.Code.NOT_FOUND, () -> lineage.getLineage(GetLineageRequest.newBuilder()
        .setStartCollection("datasets").setStartFilter("name = 'none'").build()));
  }

  @Test
  void listAndFindTakeFiltersAndOrders() {
    world();
    tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("tiny").setDocument(struct("rows", 10))
        .build());
    ListEntitiesResponse big = tracking.listEntities(ListEntitiesRequest.newBuilder().setCollection("datasets")
        .setFilter("rows > 100").build());
    assertThat(big.getEntitiesList()).extracting(Entity::getName).containsExactly("housing-2024");
    ListEntitiesResponse byRows = tracking.listEntities(ListEntitiesRequest.newBuilder().setCollection("datasets")
        .setOrderBy("rows DESC").build());
    assertThat(byRows.getEntitiesList()).extracting(Entity::getName).containsExactly("housing-2024", "tiny");
    FindEntitiesResponse f = tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("servingperf")
        .setAttribute("deployment_tag").setValue(value("prod")).setFilter("rmse >= 0.31").setOrderBy("time DESC")
        .build());
    assertThat(f.getEntitiesList()).extracting(e -> e.getDocument().getFieldsOrThrow("rmse").getNumberValue())
        .containsExactly(0.32, 0.31);
  }
}
