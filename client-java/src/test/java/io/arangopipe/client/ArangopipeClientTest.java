package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Value;
import io.arangopipe.v1.AddEdgeTypeRequest;
import io.arangopipe.v1.Aggregate;
import io.arangopipe.v1.AggregateFunction;
import io.arangopipe.v1.AggregateRunsRequest;
import io.arangopipe.v1.AggregateRunsResponse;
import io.arangopipe.v1.CompareServingToDevRequest;
import io.arangopipe.v1.CompareServingToDevResponse;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.CreateTokenResponse;
import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.DeploymentStatus;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.FindEntitiesRequest;
import io.arangopipe.v1.GetCurrentUserResponse;
import io.arangopipe.v1.GetHistoryRequest;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.GroupBy;
import io.arangopipe.v1.InsertEdgeRequest;
import io.arangopipe.v1.InsertVertexRequest;
import io.arangopipe.v1.LineageDirection;
import io.arangopipe.v1.LinkEntitiesRequest;
import io.arangopipe.v1.ListEntitiesRequest;
import io.arangopipe.v1.ListProjectsRequest;
import io.arangopipe.v1.ListTokensRequest;
import io.arangopipe.v1.ProjectRole;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RemoveEdgeTypeRequest;
import io.arangopipe.v1.RemoveVertexTypeRequest;
import io.arangopipe.v1.RevokeRoleRequest;
import io.arangopipe.v1.RevokeTokenRequest;
import io.arangopipe.v1.Role;
import io.arangopipe.v1.SearchRunsRequest;
import io.arangopipe.v1.SearchRunsResponse;
import io.arangopipe.v1.ServingPerfRecord;
import io.arangopipe.v1.SetUserDisabledRequest;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.arangopipe.v1.Token;
import io.arangopipe.v1.TypeKind;
import io.arangopipe.v1.User;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ArangopipeClient against the real server on an in-process transport. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ArangopipeClientTest {
  private static final String REGISTER_DATASET = "arangopipe.v1.TrackingService/RegisterDataset";
  private static final String GET_DEPLOYMENT = "arangopipe.v1.TrackingService/GetDeployment";
  private static final String LIST_TYPES = "arangopipe.v1.AdminService/ListTypes";
  private static final String STREAM = "arangopipe.v1.TrackingService/StreamServingPerf";
  private static final String CREATE_TOKEN = "arangopipe.v1.AdminService/CreateToken";

  @TempDir Path dir;
  InProcessServer server;
  ArangopipeClient client;

  @BeforeEach
  void start() throws Exception {
    server = new InProcessServer(dir);
    client = server.client();
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void wholeWorkflowThroughTypedMethods() {
    Deployment d = Fixtures.deploy(client, "housing-prod");
    assertThat(d.getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_SCHEDULED);

    // What a serving layer reads: which model, params and featureset the deployment uses.
    Deployment got = client.getDeployment("housing-prod");
    assertThat(got.getModelId()).startsWith("models/");
    assertThat(client.getEntity(got.getModelId()).getEntity().getName()).isEqualTo("lasso-housing-prod");
    assertThat(Structs.toMap(client.getEntity(got.getModelParamsId()).getEntity().getDocument()))
        .containsEntry("alpha", 0.001);
    assertThat(client.getEntity(got.getFeaturesetId()).getEntity().getName()).isEqualTo("housing-log-housing-prod");
    assertThat(client.updateDeploymentStatus("housing-prod", DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE).getStatus())
        .isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);

    assertThat(client.getProject("housing").getProperties().getFieldsMap()).containsKey("owner");
    assertThat(client.listAllProjects().map(p -> p.getName())).containsExactly("housing");
    assertThat(client.listProjects(ListProjectsRequest.getDefaultInstance()).getProjectsCount()).isEqualTo(1);
    Entity model = client.lookupEntity("models", "lasso-housing-prod");
    assertThat(model.getProject()).isEqualTo("housing");
    assertThat(client.getRun("run-housing-prod").getDevPerf().getDocument().getFieldsMap()).containsKey("rmse");
    assertThat(client.getRunRecipe("run-housing-prod").getModel().getId()).isEqualTo(model.getId());
    assertThat(client.getImpact(model.getId()).getDeploymentsList())
        .extracting(i -> i.getDeployment().getTag()).containsExactly("housing-prod");

    Entity sp = client.logServingPerf("housing-prod", Map.of("rmse", 0.4, "requests", 1200));
    assertThat(sp.getCollection()).isEqualTo("servingperf");
    CompareServingToDevResponse cmp = client.compareServingToDev(CompareServingToDevRequest.newBuilder()
        .setDeploymentTag("housing-prod").build());
    assertThat(cmp.getDeployments(0).getServingPerfCount()).isEqualTo(1);

    SearchRunsResponse runs = client.searchRuns(SearchRunsRequest.newBuilder().setFilter("devperf.rmse < 0.5").build());
    assertThat(runs.getRunsList()).extracting(r -> r.getRun().getRunId()).containsExactly("run-housing-prod");
    AggregateRunsResponse agg = client.aggregateRuns(AggregateRunsRequest.newBuilder()
        .addGroupBy(GroupBy.newBuilder().setField("model.type"))
        .addAggregates(Aggregate.newBuilder().setFunction(AggregateFunction.AGGREGATE_FUNCTION_COUNT)).build());
    assertThat(agg.getRowsCount()).isEqualTo(1);
    GetLineageResponse lineage = client.getLineage(GetLineageRequest.newBuilder().setStartId(model.getId())
        .setDirection(LineageDirection.LINEAGE_DIRECTION_UPSTREAM).build());
    assertThat(lineage.getNodesList()).extracting(Entity::getCollection).contains("run", "datasets");
    assertThat(client.findEntities(FindEntitiesRequest.newBuilder().setCollection("models").setAttribute("type")
        .setValue(Value.newBuilder().setStringValue("LASSO")).build()).getEntitiesCount()).isEqualTo(1);
    assertThat(client.getHistory(GetHistoryRequest.newBuilder().setId(got.getId()).build()).getEventsCount())
        .isGreaterThanOrEqualTo(2);
    Entity ds = client.lookupEntity("datasets", "housing-housing-prod");
    assertThat(client.linkEntities(LinkEntitiesRequest.newBuilder().setFromId(model.getId()).setToId(ds.getId())
        .build()).getEntity().getDocument().getFieldsMap()).containsKey("related_datasets");
  }

  @Test
  void customTypesAndPaging() {
    assertThat(client.addVertexType("experiments").getKind()).isEqualTo(TypeKind.TYPE_KIND_VERTEX);
    assertThat(client.addEdgeType("experiment_models", List.of("experiments"), List.of("models")).getKind())
        .isEqualTo(TypeKind.TYPE_KIND_EDGE);
    Entity m = client.registerModel("m", Map.of());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      ids.add(client.insertVertex(InsertVertexRequest.newBuilder().setCollection("experiments").setName("e" + i)
          .setDocument(Structs.toStruct(Map.of("i", i))).build()).getEntity().getId());
    }
    client.insertEdge(InsertEdgeRequest.newBuilder().setCollection("experiment_models").setFromId(ids.get(0))
        .setToId(m.getId()).build());
    // Pages of 3: three calls, all seven entities, in key order.
    List<String> listed = client.listAllEntities(ListEntitiesRequest.newBuilder().setCollection("experiments")
        .setPageSize(3).build()).map(Entity::getId).collect(Collectors.toList());
    assertThat(listed).containsExactlyElementsOf(ids);
    assertThat(client.getType("experiments").getDocumentCount()).isEqualTo(7);
    assertThat(client.listTypes()).extracting(t -> t.getName()).contains("experiments", "servingperf");
    assertThat(client.removeEdgeType(RemoveEdgeTypeRequest.newBuilder().setName("experiment_models").setPurge(true)
        .build()).getDeletedCount()).isEqualTo(1);
    assertThat(client.removeVertexType(RemoveVertexTypeRequest.newBuilder().setName("experiments").setPurge(true)
        .build()).getDeletedCount()).isEqualTo(7);
    assertThat(client.getEntity(m.getId()).getEntity().getName()).isEqualTo("m");
    assertThat(client.addEdgeType(AddEdgeTypeRequest.newBuilder().setName("x").addFromTypes("models")
        .addToTypes("datasets").build()).getType().getName()).isEqualTo("x");
  }

  @Test
  void usersTokensAndRoles() {
    client.createProject("housing", Map.of());
    User alice = client.createUser("alice", false);
    assertThat(alice.getServerAdmin()).isFalse();
    CreateTokenResponse token = client.createToken("alice", "serving layer");
    assertThat(token.getSecret()).isNotEmpty();
    assertThat(client.listTokens(ListTokensRequest.newBuilder().setUser("alice").build()).getTokensList())
        .extracting(Token::getTokenId).containsExactly(token.getToken().getTokenId());
    assertThat(client.grantRole("alice", "housing", Role.ROLE_EDITOR).getRolesList())
        .extracting(ProjectRole::getRole).containsExactly(Role.ROLE_EDITOR);
    assertThat(client.revokeRole(RevokeRoleRequest.newBuilder().setUser("alice").setProject("housing").build())
        .getUser().getRolesCount()).isZero();
    assertThat(client.revokeToken(RevokeTokenRequest.newBuilder().setTokenId(token.getToken().getTokenId()).build())
        .getToken().getRevoked()).isTrue();
    assertThat(client.setUserDisabled(SetUserDisabledRequest.newBuilder().setName("alice").setDisabled(true).build())
        .getUser().getDisabled()).isTrue();
    assertThat(client.listAllUsers().map(User::getName)).contains("alice");
    GetCurrentUserResponse me = client.getCurrentUser();
    assertThat(me.getAuthenticationEnabled()).isFalse();
    assertThat(me.getUser().getServerAdmin()).isTrue();
  }

  @Test
  void aWriteWithoutARequestIdIsNeverRetried() {
    client.createUser("bob", false);
    server.faults.failNext(CREATE_TOKEN, 1, Status.UNAVAILABLE.withDescription("injected"));
    assertThatThrownBy(() -> client.createToken("bob", "x")).isInstanceOf(UnavailableException.class);
    assertThat(server.faults.calls(CREATE_TOKEN)).isEqualTo(1);
  }

  @Test
  void errorsAreTypedAndCarryTheServersDetails() {
    Entity first = client.registerDataset("wine", Map.of("rows", 10));
    // Equal content: the existing dataset comes back.
    assertThat(client.registerDataset("wine", Map.of("rows", 10)).getId()).isEqualTo(first.getId());
    assertThatThrownBy(() -> client.registerDataset("wine", Map.of("rows", 11)))
        .isInstanceOfSatisfying(AlreadyExistsException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
          assertThat(e.existingId()).isEqualTo(first.getId());
          assertThat(e.errorInfo()).isPresent();
          assertThat(e.errorInfo().get().getDomain()).isEqualTo("arangopipe.v1");
          assertThat(e.reason()).isEqualTo("ALREADY_EXISTS");
          assertThat(e.getMessage()).startsWith("ALREADY_EXISTS: ");
          assertThat(e.isRetryable()).isFalse();
        });
    assertThatThrownBy(() -> client.registerDataset("", Map.of()))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e ->
            assertThat(e.fieldViolations()).extracting(v -> v.getField()).containsExactly("name"));
    assertThatThrownBy(() -> client.getDeployment("nope"))
        .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.description()).contains("nope"));
    Fixtures.deploy(client, "d1");
    client.updateDeploymentStatus("d1", DeploymentStatus.DEPLOYMENT_STATUS_ARCHIVED);
    assertThatThrownBy(() -> client.updateDeploymentStatus("d1", DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE))
        .isInstanceOfSatisfying(FailedPreconditionException.class, e -> assertThat(e.reason()).isNotEmpty());
    assertThatThrownBy(() -> client.logServingPerf("d1", Map.of("rmse", 1)))
        .isInstanceOfSatisfying(FailedPreconditionException.class,
            e -> assertThat(e.reason()).isEqualTo("DEPLOYMENT_ARCHIVED"));
  }

  @Test
  void everyWriteGetsARequestIdAndReadsDoNot() {
    client.registerDataset("a", Map.of());
    client.registerDataset(RegisterDatasetRequest.newBuilder().setName("b").setRequestId("mine-1").build());
    client.createProject(CreateProjectRequest.newBuilder().setName("p").build());
    List<Object> sent = server.faults.messages(REGISTER_DATASET);
    assertThat(sent).hasSize(2);
    String generated = ((RegisterDatasetRequest) sent.get(0)).getRequestId();
    assertThat(generated).hasSize(36); // a UUID
    assertThat(((RegisterDatasetRequest) sent.get(1)).getRequestId()).isEqualTo("mine-1");
    assertThat(((CreateProjectRequest) server.faults.messages("arangopipe.v1.AdminService/CreateProject").get(0))
        .getRequestId()).isNotEmpty();
  }

  @Test
  void aWriteWhoseAnswerWasLostIsRetriedWithTheSameRequestIdAndWrittenOnce() {
    server.faults.loseNextResponses(REGISTER_DATASET, 2);
    Entity ds = client.registerDataset("iris", Map.of("rows", 150));
    List<Object> attempts = server.faults.messages(REGISTER_DATASET);
    assertThat(attempts).hasSize(3);
    assertThat(attempts.stream().map(m -> ((RegisterDatasetRequest) m).getRequestId()).distinct()).hasSize(1);
    assertThat(client.getType("datasets").getDocumentCount()).isEqualTo(1);
    assertThat(client.lookupEntity("datasets", "iris").getId()).isEqualTo(ds.getId());
  }

  @Test
  void unavailableIsRetriedUpToThePolicyThenThrown() {
    server.faults.failNext(LIST_TYPES, 4, Status.UNAVAILABLE.withDescription("injected"));
    assertThat(client.listTypes()).isNotEmpty(); // 4 failures, 5th attempt succeeds
    assertThat(server.faults.calls(LIST_TYPES)).isEqualTo(5);

    server.faults.failNext(LIST_TYPES, 5, Status.UNAVAILABLE.withDescription("injected"));
    assertThatThrownBy(() -> client.listTypes()).isInstanceOf(UnavailableException.class)
        .hasMessageContaining("injected");
    assertThat(server.faults.calls(LIST_TYPES)).isEqualTo(10);

    // Not retried: a code that will not change by asking again.
    server.faults.failNext(LIST_TYPES, 1, Status.PERMISSION_DENIED.withDescription("no"));
    assertThatThrownBy(() -> client.listTypes()).isInstanceOf(PermissionDeniedException.class);
    assertThat(server.faults.calls(LIST_TYPES)).isEqualTo(11);
    server.faults.failNext(LIST_TYPES, 1, Status.UNAUTHENTICATED.withDescription("who?"));
    assertThatThrownBy(() -> client.listTypes()).isInstanceOf(UnauthenticatedException.class);

    try (ArangopipeClient noRetry = server.client(b -> b.retryPolicy(RetryPolicy.none()))) {
      server.faults.failNext(LIST_TYPES, 1, Status.UNAVAILABLE);
      assertThatThrownBy(noRetry::listTypes).isInstanceOf(UnavailableException.class);
    }
  }

  @Test
  void everyCallHasADeadline() {
    server.faults.delay(GET_DEPLOYMENT, 500);
    ArangopipeClient fast = client.withDeadline(Duration.ofMillis(100));
    assertThat(fast.deadline()).isEqualTo(Duration.ofMillis(100));
    assertThatThrownBy(() -> fast.getDeployment("x")).isInstanceOf(DeadlineExceededException.class);
    fast.close(); // a view: the client stays open
    assertThatThrownBy(() -> client.getDeployment("x")).isInstanceOf(NotFoundException.class);
  }

  @Test
  void bearerTokenIsSentWithEveryCall() {
    try (ArangopipeClient withToken = server.client(b -> b.bearerToken("s3cr3t-token"))) {
      withToken.listTypes();
      withToken.registerDataset("a", Map.of());
    }
    Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    assertThat(server.faults.headers).extracting(h -> h.get(auth)).containsExactly("Bearer s3cr3t-token",
        "Bearer s3cr3t-token");
    assertThatThrownBy(() -> ArangopipeClient.builder().bearerToken("has space"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void streamServingPerfSendsBatchesAndResendsThemWithoutDuplicates() {
    Fixtures.deploy(client, "dep");
    List<StreamServingPerfRequest> batches = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      StreamServingPerfRequest.Builder rb = StreamServingPerfRequest.newBuilder();
      for (int i = 0; i < 100; i++) {
        rb.addRecords(ServingPerfRecord.newBuilder().setDeploymentTag("dep")
            .setMetrics(Structs.toStruct(Map.of("seq", b * 100 + i))));
      }
      batches.add(rb.build());
    }
    server.faults.loseNextResponses(STREAM, 1); // written, but the answer is lost: sent again
    StreamServingPerfResponse r = client.streamServingPerf(batches);
    assertThat(r.getAcceptedBatches()).isEqualTo(3);
    assertThat(r.getAcceptedRecords()).isEqualTo(300);
    assertThat(Fixtures.servingPerfCount(client)).isEqualTo(300);

    // A bad batch ends the call; the exception says how much was written before it.
    List<StreamServingPerfRequest> mixed = List.of(batches.get(0).toBuilder().clearRequestId().build(),
        StreamServingPerfRequest.newBuilder().addRecords(ServingPerfRecord.newBuilder().setDeploymentTag("ghost"))
            .build());
    assertThatThrownBy(() -> client.streamServingPerf(mixed)).isInstanceOfSatisfying(NotFoundException.class, e -> {
      assertThat(e.metadata()).containsEntry("accepted_batches", "1").containsEntry("accepted_records", "100");
      assertThat(e.description()).startsWith("records[0].deployment_tag");
    });
    assertThat(Fixtures.servingPerfCount(client)).isEqualTo(400);
  }

  @Test
  void threadSafeUnderConcurrentUse() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> ids = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        int n = i;
        ids.add(pool.submit(() -> client.registerDataset("ds-" + n, Map.of("n", n)).getId()));
      }
      Set<String> distinct = new java.util.HashSet<>();
      for (Future<String> f : ids) {
        distinct.add(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(distinct).hasSize(64);
    } finally {
      pool.shutdownNow();
    }
    assertThat(client.getType("datasets").getDocumentCount()).isEqualTo(64);
  }

  @Test
  void closedClientRefusesCalls() {
    ArangopipeClient c = server.client();
    c.close();
    c.close(); // idempotent
    assertThatThrownBy(c::listTypes).isInstanceOf(IllegalStateException.class);
  }
}
