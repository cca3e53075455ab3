package io.arangopipe.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.v1.*;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC through a real gRPC stack (in-process transport) over a real SQLite file, errors included. */
class GrpcApiTest extends ApiTestBase {

  // ---- health and the happy path -----------------------------------------------------------------

  @Test
  void healthIsServingForTheServerAndEveryService() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    List<String> names = new ArrayList<>(ArangopipeServer.SERVICE_NAMES);
    names.add("");
    names.add(ArangopipeServer.LIVENESS_SERVICE);
    for (String n : names) {
      assertThat(health.check(HealthCheckRequest.newBuilder().setService(n).build()).getStatus())
          .as(n).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
  }

  @Test
  void projectsCreateGetListAndRepeatSafely() {
    Project p = admin.createProject(CreateProjectRequest.newBuilder().setName("churn")
        .setProperties(struct("team", "growth")).build()).getProject();
    assertThat(p.getId()).startsWith("project/");
    assertThat(p.getProperties()).isEqualTo(struct("team", "growth"));
    assertThat(p.getCreator()).isEqualTo("anonymous");
    // The same request again returns the same project.
    assertThat(admin.createProject(CreateProjectRequest.newBuilder().setName("churn")
        .setProperties(struct("team", "growth")).build()).getProject()).isEqualTo(p);
    // Different properties: ALREADY_EXISTS naming the existing id.
    com.google.rpc.Status s = fails(Status.Code.ALREADY_EXISTS, () -> admin.createProject(
        CreateProjectRequest.newBuilder().setName("churn").setProperties(struct("team", "other")).build()));
    assertThat(infoOf(s).getMetadataMap()).containsEntry("existing_id", p.getId());
    assertThat(admin.getProject(GetProjectRequest.newBuilder().setName("churn").build()).getProject()).isEqualTo(p);
    fails(Status.Code.NOT_FOUND, () -> admin.getProject(GetProjectRequest.newBuilder().setName("nope").build()));

    for (int i = 0; i < 7; i++) {
      admin.createProject(CreateProjectRequest.newBuilder().setName("p" + i).build());
    }
    List<String> names = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListProjectsResponse r = admin.listProjects(ListProjectsRequest.newBuilder().setPageSize(3)
          .setPageToken(token).build());
      r.getProjectsList().forEach(x -> names.add(x.getName()));
      token = r.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(names).containsExactly("churn", "p0", "p1", "p2", "p3", "p4", "p5", "p6");
    assertThat(pages).isEqualTo(3);
  }


  @Test
  void theWholeWorkflow() {
    Setup s = setup();
    assertThat(s.dataset().getDocument().getFieldsOrThrow("rows").getNumberValue()).isEqualTo(20640);
    assertThat(s.model().getProject()).isEqualTo("housing");

    LogRunResponse run = logRun(s, "run-1", "nightly", "housing-prod", 0.31);
    Run r = run.getRun();
    assertThat(r.getId()).isEqualTo("run/run-1");
    assertThat(r.getModelId()).isEqualTo(s.model().getId());
    assertThat(r.getDatasetId()).isEqualTo(s.dataset().getId());
    assertThat(r.getFeaturesetId()).isEqualTo(s.featureset().getId());
    assertThat(r.getStatus()).isEqualTo(RunStatus.RUN_STATUS_COMPLETED);
    assertThat(r.getProperties()).isEqualTo(struct("notes", "baseline"));
    assertThat(run.getModelParams().getDocument().getFieldsOrThrow("alpha").getNumberValue()).isEqualTo(0.001);
    assertThat(run.getModelParams().getDocument().getFieldsOrThrow("run_id").getStringValue()).isEqualTo("run-1");
    assertThat(run.getDevPerf().getDocument().getFieldsOrThrow("rmse").getNumberValue()).isEqualTo(0.31);
    assertThat(r.getModelParamsId()).isEqualTo(run.getModelParams().getId());

    // Lookups.
    assertThat(tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("datasets")
        .setName("housing-2024").build()).getEntity()).isEqualTo(s.dataset());
    assertThat(tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("models").setName("lasso-v1")
        .setProject("housing").build()).getEntity()).isEqualTo(s.model());
    GetRunResponse byTag = tracking.getRun(GetRunRequest.newBuilder().setTag("nightly").build());
    assertThat(byTag.getRun()).isEqualTo(r);
    assertThat(byTag.getModelParams()).isEqualTo(run.getModelParams());
    assertThat(byTag.getDevPerf()).isEqualTo(run.getDevPerf());
    assertThat(tracking.getEntity(GetEntityRequest.newBuilder().setId(s.featureset().getId()).build())
        .getEntity()).isEqualTo(s.featureset());
    GetEntityResponse edge = tracking.getEntity(GetEntityRequest.newBuilder()
        .setId("run_datasets/run-1-" + s.dataset().getKey()).build());
    assertThat(edge.hasEdge()).isTrue();
    assertThat(edge.getEdge().getFromId()).isEqualTo("run/run-1");
    assertThat(edge.getEdge().getToId()).isEqualTo(s.dataset().getId());

    // Deployment from the run's deployment tag.
    Deployment d = admin.registerDeployment(RegisterDeploymentRequest.newBuilder()
        .setDeploymentTag("housing-prod").setProperties(struct("endpoint", "https://serve/housing")).build())
        .getDeployment();
    assertThat(d.getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_SCHEDULED);
    assertThat(d.getRunId()).isEqualTo("run/run-1");
    assertThat(d.getModelId()).isEqualTo(s.model().getId());
    assertThat(d.getModelParamsId()).isEqualTo(run.getModelParams().getId());
    assertThat(d.getFeaturesetId()).isEqualTo(s.featureset().getId());
    assertThat(d.getProject()).isEqualTo("housing");
    Deployment active = admin.updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder()
        .setDeploymentTag("housing-prod").setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE).build())
        .getDeployment();
    assertThat(active.getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);
    assertThat(tracking.getDeployment(GetDeploymentRequest.newBuilder().setDeploymentTag("housing-prod").build())
        .getDeployment()).isEqualTo(active);

    Entity sp = tracking.logServingPerf(LogServingPerfRequest.newBuilder().setDeploymentTag("housing-prod")
        .setMetrics(struct("rmse", 0.35, "requests", 1200)).build()).getServingPerf();
    assertThat(sp.getCollection()).isEqualTo("servingperf");
    assertThat(sp.getDocument().getFieldsOrThrow("deployment_tag").getStringValue()).isEqualTo("housing-prod");

    // Find by a nested attribute and by a quoted name with a space.
    FindEntitiesResponse found = tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("modelparams")
        .setAttribute("tuning.cv").setValue(value(5)).build());
    assertThat(found.getEntitiesList()).extracting(Entity::getId).containsExactly(run.getModelParams().getId());
    assertThat(tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("name").setValue(value("housing-2024")).build()).getEntitiesList()).hasSize(1);

    // Lineage: downstream of the dataset reaches the featureset, the run, the model, the deployment and the
    // serving performance; upstream of the deployment reaches the dataset.
    GetLineageResponse down = lineage.getLineage(GetLineageRequest.newBuilder().setStartId(s.dataset().getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(6).build());
    Set<String> downIds = ids(down);
    assertThat(downIds).contains(s.featureset().getId(), "run/run-1", s.model().getId(), d.getId(), sp.getId(),
        run.getDevPerf().getId());
    assertThat(downIds).doesNotContain(run.getModelParams().getId(), s.project().getId());
    assertThat(down.getNodes(0).getId()).isEqualTo(s.dataset().getId());
    assertThat(down.getTruncated()).isFalse();
    GetLineageResponse up = lineage.getLineage(GetLineageRequest.newBuilder().setStartId(d.getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_UPSTREAM).setMaxDepth(5).build());
    assertThat(ids(up)).contains(s.model().getId(), "run/run-1", s.dataset().getId(), s.featureset().getId(),
        run.getModelParams().getId(), s.project().getId());
    assertThat(ids(up)).doesNotContain(sp.getId());
    for (Edge e : up.getEdgesList()) {
      assertThat(ids(up)).contains(e.getFromId(), e.getToId());
    }
    GetLineageResponse shallow = lineage.getLineage(GetLineageRequest.newBuilder().setStartId(s.dataset().getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(1).build());
    assertThat(ids(shallow)).containsExactlyInAnyOrder(s.dataset().getId(), s.featureset().getId(), "run/run-1");
    GetLineageResponse capped = lineage.getLineage(GetLineageRequest.newBuilder().setStartId(s.dataset().getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_BOTH).setMaxNodes(2).build());
    assertThat(capped.getNodesCount()).isEqualTo(2);
    assertThat(capped.getTruncated()).isTrue();
  }


  @Test
  void registrationIsIdempotentForEqualDocumentsAndRefusesDifferentOnes() {
    Setup s = setup();
    Entity again = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("housing-2024")
        .setDocument(struct("columns", List.of("medv", "lstat", "fixed acidity"), "rows", 20640.0,
            "source", "s3://bucket/housing.csv")).build()).getDataset();
    assertThat(again).isEqualTo(s.dataset());
    com.google.rpc.Status st = fails(Status.Code.ALREADY_EXISTS, () -> tracking.registerDataset(
        RegisterDatasetRequest.newBuilder().setName("housing-2024").setDocument(struct("rows", 1)).build()));
    assertThat(infoOf(st).getMetadataMap()).containsEntry("existing_id", s.dataset().getId());
    assertThat(infoOf(st).getReason()).isEqualTo("ALREADY_EXISTS");
    // Same name in another project is another dataset.
    Entity other = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("housing-2024")
        .setProject("housing").build()).getDataset();
    assertThat(other.getId()).isNotEqualTo(s.dataset().getId());
    // Now the bare name is ambiguous.
    com.google.rpc.Status amb = fails(Status.Code.FAILED_PRECONDITION, () -> tracking.lookupEntity(
        LookupEntityRequest.newBuilder().setCollection("datasets").setName("housing-2024").build()));
    assertThat(amb.getMessage()).contains("give the project");
    // A featureset's name is taken for another dataset.
    fails(Status.Code.ALREADY_EXISTS, () -> tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder()
        .setName("housing-log").setDatasetId(other.getId())
        .setDocument(struct("transform", "log", "attributes", List.of("lstat"))).build()));
    // Registering the model again in its project returns it (and does not duplicate the project edge).
    assertThat(tracking.registerModel(RegisterModelRequest.newBuilder().setName("lasso-v1").setProject("housing")
        .setDocument(struct("type", "LASSO", "framework", "sklearn")).build()).getModel()).isEqualTo(s.model());
    assertThat(admin.getType(GetTypeRequest.newBuilder().setName("project_models").build()).getType()
        .getDocumentCount()).isEqualTo(1);
  }

  @Test
  void logRunIsAtomicAndRepeatable() {
    Setup s = setup();
    LogRunResponse first = logRun(s, "r1", "t", "", 0.5);
    assertThat(logRun(s, "r1", "t", "", 0.5)).isEqualTo(first);
    com.google.rpc.Status st = fails(Status.Code.ALREADY_EXISTS, () -> logRun(s, "r1", "t", "", 0.9));
    assertThat(infoOf(st).getMetadataMap()).containsEntry("existing_id", "run/r1");

    long paramsBefore = count("modelparams");
    long edgesBefore = count("run_models");
    // A missing featureset fails the whole run: no run, no params, no perf, no edges.
    fails(Status.Code.NOT_FOUND, () -> tracking.logRun(LogRunRequest.newBuilder().setRunId("r2")
        .setModelId(s.model().getId()).setFeaturesetId("featuresets/missing")
        .setModelParams(struct("alpha", 1)).build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.getRun(GetRunRequest.newBuilder().setRunId("r2").build()));
    assertThat(count("modelparams")).isEqualTo(paramsBefore);
    assertThat(count("run_models")).isEqualTo(edgesBefore);

    // Without a start time the server picks one, and a repeat still counts as the same run.
    LogRunRequest noStart = LogRunRequest.newBuilder().setRunId("r3").setModelId(s.model().getId())
        .setDevPerf(struct("rmse", 1)).build();
    LogRunResponse r3 = tracking.logRun(noStart);
    assertThat(r3.getRun().hasStartTime()).isTrue();
    assertThat(tracking.logRun(noStart).getRun().getId()).isEqualTo("run/r3");

    // GetRun by tag returns the most recently started run with the tag.
    logRun(s, "r4", "t", "", 0.7);
    assertThat(tracking.getRun(GetRunRequest.newBuilder().setTag("t").build()).getRun().getRunId()).isEqualTo("r4");
    // A generated run id.
    LogRunResponse gen = tracking.logRun(LogRunRequest.newBuilder().setModelId(s.model().getId()).build());
    assertThat(gen.getRun().getRunId()).hasSize(26);
  }


  @Test
  void moreConcurrentLogRunsThanRpcThreadsAllCommit() throws Exception {
    // LogRun waits for its group commit without holding an RPC thread (the test server has 8): 64 at
    // once all complete, and the ones that conflict fail alone.
    Setup s = setup();
    TrackingServiceGrpc.TrackingServiceFutureStub async = TrackingServiceGrpc.newFutureStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    List<com.google.common.util.concurrent.ListenableFuture<LogRunResponse>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 64; i++) {
      calls.add(async.logRun(LogRunRequest.newBuilder().setRunId("c" + i).setModelId(s.model().getId())
          .setDatasetId(s.dataset().getId()).setModelParams(struct("alpha", i)).build()));
    }
    calls.add(async.logRun(LogRunRequest.newBuilder().setRunId("bad").setModelId("models/missing").build()));
    for (int i = 0; i < 64; i++) {
      assertThat(calls.get(i).get(30, TimeUnit.SECONDS).getRun().getRunId()).isEqualTo("c" + i);
    }
    java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class, () -> calls.get(64).get(30, TimeUnit.SECONDS));
    assertThat(Status.fromThrowable(e.getCause()).getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(count("run_modelparams")).isEqualTo(64);
    assertThat(count("run_datasets")).isEqualTo(64);
  }

  @Test
  void requestIdsMakeRetriesSafe() {
    Setup s = setup();
    RegisterDatasetRequest req = RegisterDatasetRequest.newBuilder().setName("ds-retry")
        .setDocument(struct("v", 1)).setRequestId("req-42").build();
    Entity first = tracking.registerDataset(req).getDataset();
    assertThat(tracking.registerDataset(req).getDataset()).isEqualTo(first);
    // The same id for a different request is refused.
    com.google.rpc.Status st = fails(Status.Code.FAILED_PRECONDITION, () -> tracking.registerDataset(
        req.toBuilder().setName("another").build()));
    assertThat(infoOf(st).getReason()).isEqualTo("REQUEST_ID_REUSED");
    // LogServingPerf without a name: only the request id prevents a duplicate on retry.
    LogRunResponse run = logRun(s, "r1", "", "dep", 0.2);
    assertThat(run.getRun().getDeploymentTag()).isEqualTo("dep");
    admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("dep").build());
    LogServingPerfRequest sp = LogServingPerfRequest.newBuilder().setDeploymentTag("dep")
        .setMetrics(struct("rmse", 0.3)).setRequestId("sp-1").build();
    Entity a = tracking.logServingPerf(sp).getServingPerf();
    Entity b = tracking.logServingPerf(sp).getServingPerf();
    assertThat(b).isEqualTo(a);
    assertThat(count("servingperf")).isEqualTo(1);
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.registerDataset(req.toBuilder().setRequestId("has space")
        .build()));
  }

  @Test
  void deploymentRulesAndStatusTransitions() {
    Setup s = setup();
    com.google.rpc.Status none = fails(Status.Code.FAILED_PRECONDITION, () -> admin.registerDeployment(
        RegisterDeploymentRequest.newBuilder().setDeploymentTag("nobody-has-it").build()));
    assertThat(infoOf(none).getReason()).isEqualTo("DEPLOYMENT_TAG_NOT_FOUND");
    logRun(s, "a", "", "shared", 0.1);
    logRun(s, "b", "", "shared", 0.2);
    com.google.rpc.Status amb = fails(Status.Code.FAILED_PRECONDITION, () -> admin.registerDeployment(
        RegisterDeploymentRequest.newBuilder().setDeploymentTag("shared").build()));
    assertThat(infoOf(amb).getReason()).isEqualTo("AMBIGUOUS_DEPLOYMENT_TAG");
    Deployment d = admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("shared")
        .setRunId("b").build()).getDeployment();
    assertThat(d.getRunId()).isEqualTo("run/b");
    // Same again: the same deployment; from the other run: ALREADY_EXISTS.
    assertThat(admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("shared")
        .setRunId("b").build()).getDeployment()).isEqualTo(d);
    fails(Status.Code.ALREADY_EXISTS, () -> admin.registerDeployment(RegisterDeploymentRequest.newBuilder()
        .setDeploymentTag("shared").setRunId("a").build()));

    Consumer<DeploymentStatus> to = st -> admin.updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder()
        .setDeploymentTag("shared").setStatus(st).build());
    to.accept(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);
    to.accept(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);
    com.google.rpc.Status back = fails(Status.Code.FAILED_PRECONDITION,
        () -> to.accept(DeploymentStatus.DEPLOYMENT_STATUS_SCHEDULED));
    assertThat(infoOf(back).getReason()).isEqualTo("INVALID_STATUS_TRANSITION");
    to.accept(DeploymentStatus.DEPLOYMENT_STATUS_ARCHIVED);
    fails(Status.Code.FAILED_PRECONDITION, () -> to.accept(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE));
    fails(Status.Code.FAILED_PRECONDITION, () -> tracking.logServingPerf(LogServingPerfRequest.newBuilder()
        .setDeploymentTag("shared").setMetrics(struct("rmse", 1)).build()));
    fails(Status.Code.NOT_FOUND, () -> admin.updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder()
        .setDeploymentTag("ghost").setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE).build()));
    fails(Status.Code.INVALID_ARGUMENT, () -> admin.updateDeploymentStatus(UpdateDeploymentStatusRequest
        .newBuilder().setDeploymentTag("shared").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.getDeployment(GetDeploymentRequest.newBuilder()
        .setDeploymentTag("ghost").build()));
  }

  @Test
  void listAndFindPageThroughEntities() {
    for (int i = 0; i < 25; i++) {
      tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("ds" + i)
          .setDocument(struct("parity", i % 2 == 0 ? "even" : "odd", "i", i)).build());
    }
    List<String> seen = new ArrayList<>();
    String token = "";
    do {
      ListEntitiesResponse r = tracking.listEntities(ListEntitiesRequest.newBuilder().setCollection("datasets")
          .setPageSize(10).setPageToken(token).build());
      assertThat(r.getEntitiesCount()).isLessThanOrEqualTo(10);
      r.getEntitiesList().forEach(e -> seen.add(e.getName()));
      token = r.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(seen).hasSize(25).doesNotHaveDuplicates();
    // Keys are time-ordered, so key order is registration order.
    assertThat(seen.get(0)).isEqualTo("ds0");
    assertThat(seen.get(24)).isEqualTo("ds24");

    FindEntitiesResponse even = tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("parity").setValue(value("even")).setPageSize(5).build());
    assertThat(even.getEntitiesCount()).isEqualTo(5);
    FindEntitiesResponse rest = tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("parity").setValue(value("even")).setPageSize(50).setPageToken(even.getNextPageToken())
        .build());
    assertThat(rest.getEntitiesCount()).isEqualTo(8);
    assertThat(rest.getNextPageToken()).isEmpty();
    // A token from one query is refused by another.
    com.google.rpc.Status st = fails(Status.Code.INVALID_ARGUMENT, () -> tracking.findEntities(
        FindEntitiesRequest.newBuilder().setCollection("datasets").setAttribute("parity").setValue(value("odd"))
            .setPageToken(even.getNextPageToken()).build()));
    assertThat(badFieldOf(st)).isEqualTo("page_token");
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.listEntities(ListEntitiesRequest.newBuilder()
        .setCollection("datasets").setPageToken("garbage!").build()));
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.listEntities(ListEntitiesRequest.newBuilder()
        .setCollection("datasets").setPageSize(-1).build()));
    // Oversized pages are clamped, not refused.
    assertThat(tracking.listEntities(ListEntitiesRequest.newBuilder().setCollection("datasets")
        .setPageSize(100_000).build()).getEntitiesCount()).isEqualTo(25);
    assertThat(tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets").setAttribute("i")
        .setValue(value(7)).build()).getEntities(0).getName()).isEqualTo("ds7");
  }


  @Test
  void linkEntitiesAppendsOnce() {
    Setup s = setup();
    Entity linked = tracking.linkEntities(LinkEntitiesRequest.newBuilder().setFromId(s.model().getId())
        .setToId(s.dataset().getId()).build()).getEntity();
    assertThat(linked.getDocument().getFieldsOrThrow("related_datasets").getListValue().getValuesList())
        .extracting(Value::getStringValue).containsExactly(s.dataset().getId());
    Entity again = tracking.linkEntities(LinkEntitiesRequest.newBuilder().setFromId(s.model().getId())
        .setToId(s.dataset().getId()).build()).getEntity();
    assertThat(again.getDocument().getFieldsOrThrow("related_datasets").getListValue().getValuesCount())
        .isEqualTo(1);
    assertThat(again.getDocument().getFieldsOrThrow("type").getStringValue()).isEqualTo("LASSO");
    fails(Status.Code.NOT_FOUND, () -> tracking.linkEntities(LinkEntitiesRequest.newBuilder()
        .setFromId(s.model().getId()).setToId("datasets/nope").build()));
  }

  @Test
  void customTypesCanBeAddedUsedAndRemoved() {
    Setup s = setup();
    EntityType v = admin.addVertexType(AddVertexTypeRequest.newBuilder().setName("experiments").build()).getType();
    assertThat(v.getKind()).isEqualTo(TypeKind.TYPE_KIND_VERTEX);
    assertThat(v.getBuiltin()).isFalse();
    assertThat(admin.addVertexType(AddVertexTypeRequest.newBuilder().setName("experiments").build()).getType())
        .isEqualTo(v);
    EntityType e = admin.addEdgeType(AddEdgeTypeRequest.newBuilder().setName("experiment_models")
        .addFromTypes("experiments").addToTypes("models").build()).getType();
    assertThat(e.getKind()).isEqualTo(TypeKind.TYPE_KIND_EDGE);
    fails(Status.Code.ALREADY_EXISTS, () -> admin.addEdgeType(AddEdgeTypeRequest.newBuilder()
        .setName("experiment_models").addFromTypes("experiments").addToTypes("datasets").build()));
    fails(Status.Code.NOT_FOUND, () -> admin.addEdgeType(AddEdgeTypeRequest.newBuilder().setName("x")
        .addFromTypes("nope").addToTypes("models").build()));

    Entity exp = tracking.insertVertex(InsertVertexRequest.newBuilder().setCollection("experiments")
        .setName("ablation-1").setDocument(struct("goal", "drop lstat")).build()).getEntity();
    assertThat(tracking.insertVertex(InsertVertexRequest.newBuilder().setCollection("experiments")
        .setName("ablation-1").setDocument(struct("goal", "drop lstat")).build()).getEntity()).isEqualTo(exp);
    Edge link = tracking.insertEdge(InsertEdgeRequest.newBuilder().setCollection("experiment_models")
        .setFromId(exp.getId()).setToId(s.model().getId()).setDocument(struct("role", "candidate")).build())
        .getEdge();
    assertThat(link.getFromId()).isEqualTo(exp.getId());
    // Custom edges flow forward: the experiment is upstream of the model.
    GetLineageResponse up = lineage.getLineage(GetLineageRequest.newBuilder().setStartId(s.model().getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_UPSTREAM).build());
    assertThat(ids(up)).contains(exp.getId());
    fails(Status.Code.FAILED_PRECONDITION, () -> tracking.insertEdge(InsertEdgeRequest.newBuilder()
        .setCollection("experiment_models").setFromId(s.model().getId()).setToId(exp.getId()).build()));
    fails(Status.Code.FAILED_PRECONDITION, () -> tracking.insertVertex(InsertVertexRequest.newBuilder()
        .setCollection("datasets").setName("sneaky").build()));
    fails(Status.Code.FAILED_PRECONDITION, () -> tracking.insertEdge(InsertEdgeRequest.newBuilder()
        .setCollection("run_models").setFromId(s.model().getId()).setToId("run/x").build()));

    // Removal needs purge while documents exist, and the edge type must go first.
    fails(Status.Code.FAILED_PRECONDITION, () -> admin.removeVertexType(RemoveVertexTypeRequest.newBuilder()
        .setName("experiments").setPurge(true).build()));
    fails(Status.Code.FAILED_PRECONDITION, () -> admin.removeEdgeType(RemoveEdgeTypeRequest.newBuilder()
        .setName("experiment_models").build()));
    assertThat(admin.removeEdgeType(RemoveEdgeTypeRequest.newBuilder().setName("experiment_models").setPurge(true)
        .build()).getDeletedCount()).isEqualTo(1);
    assertThat(admin.removeVertexType(RemoveVertexTypeRequest.newBuilder().setName("experiments").setPurge(true)
        .build()).getDeletedCount()).isEqualTo(1);
    fails(Status.Code.NOT_FOUND, () -> admin.getType(GetTypeRequest.newBuilder().setName("experiments").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.getEntity(GetEntityRequest.newBuilder().setId(exp.getId()).build()));
    fails(Status.Code.FAILED_PRECONDITION, () -> admin.removeVertexType(RemoveVertexTypeRequest.newBuilder()
        .setName("datasets").setPurge(true).build()));
    List<String> types = admin.listTypes(ListTypesRequest.getDefaultInstance()).getTypesList().stream()
        .map(EntityType::getName).toList();
    assertThat(types).startsWith("project", "models", "datasets").doesNotContain("experiments")
        .contains("featureset_dataset");
  }

  @Test
  void badInputGetsInvalidArgumentNamingTheField() throws Exception {
    Setup s = setup();
    List<Map.Entry<String, ThrowingCallable>> cases = new ArrayList<>();
    add(cases, "name", () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder().build()));
    add(cases, "name", () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName(" padded").build()));
    add(cases, "dataset_id", () -> tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName("f")
        .setDatasetId("models/" + s.model().getKey()).build()));
    add(cases, "model_id", () -> tracking.logRun(LogRunRequest.newBuilder().build()));
    add(cases, "run_id", () -> tracking.logRun(LogRunRequest.newBuilder().setRunId("has/slash")
        .setModelId(s.model().getId()).build()));
    add(cases, "end_time", () -> tracking.logRun(LogRunRequest.newBuilder().setModelId(s.model().getId())
        .setStartTime(Timestamp.newBuilder().setSeconds(100)).setEndTime(Timestamp.newBuilder().setSeconds(50))
        .build()));
    add(cases, "properties.tag", () -> tracking.logRun(LogRunRequest.newBuilder().setModelId(s.model().getId())
        .setProperties(struct("tag", "x")).build()));
    add(cases, "model_params.run_id", () -> tracking.logRun(LogRunRequest.newBuilder().setRunId("r")
        .setModelId(s.model().getId()).setModelParams(struct("run_id", "other")).build()));
    add(cases, "document.x", () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("nan")
        .setDocument(struct("x", Double.NaN)).build()));
    add(cases, "id", () -> tracking.getEntity(GetEntityRequest.newBuilder().setId("no-slash").build()));
    add(cases, "attribute", () -> tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("a..b").setValue(value("x")).build()));
    add(cases, "value", () -> tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("a").setValue(value(struct("x", 1))).build()));
    add(cases, "collection", () -> tracking.listEntities(ListEntitiesRequest.newBuilder()
        .setCollection("x'; DROP TABLE vertices; --").build()));
    add(cases, "max_depth", () -> lineage.getLineage(GetLineageRequest.newBuilder().setStartId(s.dataset().getId())
        .setMaxDepth(1000).build()));
    add(cases, "name", () -> admin.createProject(CreateProjectRequest.newBuilder().setName("bad\u0000name").build()));
    add(cases, "status", () -> admin.registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag("d")
        .setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ARCHIVED).build()));
    add(cases, "from_types", () -> admin.addEdgeType(AddEdgeTypeRequest.newBuilder().setName("e").build()));
    add(cases, "document", () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("deep")
        .setDocument(deep(31)).build()));
    for (Map.Entry<String, ThrowingCallable> c : cases) {
      com.google.rpc.Status st = fails(Status.Code.INVALID_ARGUMENT, c.getValue());
      assertThat(badField(st)).as(st.getMessage()).isEqualTo(c.getKey());
      assertThat(st.getMessage()).startsWith(c.getKey());
    }
    // Deeper than protobuf itself parses: still INVALID_ARGUMENT, never INTERNAL or UNKNOWN.
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.registerDataset(RegisterDatasetRequest.newBuilder()
        .setName("deeper").setDocument(deep(60)).build()));
    // Nothing was written by any of them.
    assertThat(count("datasets")).isEqualTo(1);
    assertThat(count("run")).isZero();
  }

  private static void add(List<Map.Entry<String, ThrowingCallable>> cases, String field, ThrowingCallable call) {
    cases.add(Map.entry(field, call));
  }

  private static Struct deep(int levels) {
    Struct s = struct("leaf", 1);
    for (int i = 0; i < levels; i++) {
      s = struct("d", s);
    }
    return s;
  }

  @Test
  void missingThingsAreNotFound() {
    Setup s = setup();
    fails(Status.Code.NOT_FOUND, () -> tracking.getEntity(GetEntityRequest.newBuilder().setId("datasets/nope")
        .build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.getEntity(GetEntityRequest.newBuilder().setId("nosuchtype/x")
        .build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.lookupEntity(LookupEntityRequest.newBuilder()
        .setCollection("models").setName("nope").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.registerModel(RegisterModelRequest.newBuilder().setName("m")
        .setProject("no-such-project").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.registerFeatureset(RegisterFeaturesetRequest.newBuilder()
        .setName("f").setDatasetId("datasets/nope").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.logRun(LogRunRequest.newBuilder().setModelId("models/nope")
        .build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.getRun(GetRunRequest.newBuilder().setTag("none").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.logServingPerf(LogServingPerfRequest.newBuilder()
        .setDeploymentTag("none").build()));
    fails(Status.Code.NOT_FOUND, () -> tracking.listEntities(ListEntitiesRequest.newBuilder()
        .setCollection("nosuchtype").build()));
    fails(Status.Code.NOT_FOUND, () -> lineage.getLineage(GetLineageRequest.newBuilder()
        .setStartId("datasets/nope").build()));
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.getRun(GetRunRequest.newBuilder().build()));
    assertThat(s.project().getName()).isEqualTo("housing");
  }

  @Test
  void injectionStringsAreStoredAndMatchedLiterally() {
    String evil = "x' OR '1'='1\"; DROP TABLE vertices; --";
    Entity ds = tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName(evil)
        .setDocument(struct(evil, evil)).build()).getDataset();
    tracking.registerDataset(RegisterDatasetRequest.newBuilder().setName("innocent").build());
    assertThat(tracking.lookupEntity(LookupEntityRequest.newBuilder().setCollection("datasets").setName(evil)
        .build()).getEntity()).isEqualTo(ds);
    assertThat(tracking.findEntities(FindEntitiesRequest.newBuilder().setCollection("datasets")
        .setAttribute("name").setValue(value("' OR 1=1 --")).build()).getEntitiesCount()).isZero();
    // Attribute paths cannot smuggle quotes into the JSON path.
    fails(Status.Code.INVALID_ARGUMENT, () -> tracking.findEntities(FindEntitiesRequest.newBuilder()
        .setCollection("datasets").setAttribute(evil).setValue(value(evil)).build()));
    assertThat(count("datasets")).isEqualTo(2);
  }
}
