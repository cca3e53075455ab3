package io.arangopipe.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.v1.*;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The authorisation matrix (each role against each group of calls), revocation, disabled users, and
 * results narrowed to what the caller may see — over a real gRPC stack with authentication on.
 */
class AuthorizationTest {
  static final String ADMIN_TOKEN = "bootstrap-admin-token-0123456789";

  @TempDir
  Path dir;

  ArangopipeServer server;
  ManagedChannel channel;
  final Map<String, String> tokens = new LinkedHashMap<>();

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = new ArangopipeServer(ServerConfig.forTests(dir).withAuth(ADMIN_TOKEN),
        InProcessServerBuilder.forName(name));
    channel = InProcessChannelBuilder.forName(name).build();
    tokens.put("admin", ADMIN_TOKEN);
    AdminServiceGrpc.AdminServiceBlockingStub root = admin("admin");
    root.createProject(CreateProjectRequest.newBuilder().setName("p1").build());
    root.createProject(CreateProjectRequest.newBuilder().setName("p2").build());
    for (String[] u : new String[][] {{"viewer", "ROLE_VIEWER"}, {"editor", "ROLE_EDITOR"},
        {"padmin", "ROLE_ADMIN"}, {"outsider", null}}) {
      root.createUser(CreateUserRequest.newBuilder().setName(u[0]).build());
      tokens.put(u[0], root.createToken(CreateTokenRequest.newBuilder().setUser(u[0]).build()).getSecret());
      if (u[1] != null) {
        root.grantRole(GrantRoleRequest.newBuilder().setUser(u[0]).setProject("p1").setRole(Role.valueOf(u[1]))
            .build());
      }
    }
    // The outsider may see p2 only.
    root.grantRole(GrantRoleRequest.newBuilder().setUser("outsider").setProject("p2").setRole(Role.ROLE_EDITOR)
        .build());
    // A little of p1: a dataset, model, run and deployment.
    TrackingServiceGrpc.TrackingServiceBlockingStub t = tracking("admin");
    String ds = t.registerDataset(RegisterDatasetRequest.newBuilder().setName("d1").setProject("p1").build())
        .getDataset().getId();
    String m = t.registerModel(RegisterModelRequest.newBuilder().setName("m1").setProject("p1").build())
        .getModel().getId();
    t.logRun(LogRunRequest.newBuilder().setRunId("r1").setProject("p1").setModelId(m).setDatasetId(ds)
        .setDeploymentTag("dep1").setDevPerf(struct("rmse", 0.5)).build());
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  static Struct struct(String k, double v) {
    return Struct.newBuilder().putFields(k, Value.newBuilder().setNumberValue(v).build()).build();
  }

  private Channel as(String user) {
    Metadata md = new Metadata();
    if (user != null) {
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + tokens.get(user));
    }
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
  }

  AdminServiceGrpc.AdminServiceBlockingStub admin(String user) {
    return AdminServiceGrpc.newBlockingStub(as(user)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  TrackingServiceGrpc.TrackingServiceBlockingStub tracking(String user) {
    return TrackingServiceGrpc.newBlockingStub(as(user)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  LineageServiceGrpc.LineageServiceBlockingStub lineage(String user) {
    return LineageServiceGrpc.newBlockingStub(as(user)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Runs a call as a user and returns its status code (OK when it succeeded). */
  private Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private int seq;

  /** One call per group; each call uses fresh names so that repeating a group never collides. */
  private Map<String, Runnable> groups(String u) {
    int n = ++seq;
    Map<String, Runnable> g = new LinkedHashMap<>();
    g.put("read", () -> {
      admin(u).getProject(GetProjectRequest.newBuilder().setName("p1").build());
      tracking(u).getRun(GetRunRequest.newBuilder().setRunId("r1").build());
      lineage(u).searchRuns(SearchRunsRequest.newBuilder().setProject("p1").build());
    });
    g.put("write", () -> tracking(u).registerDataset(RegisterDatasetRequest.newBuilder().setName("w" + n)
        .setProject("p1").build()));
    g.put("project-admin", () -> admin(u).grantRole(GrantRoleRequest.newBuilder().setUser("viewer")
        .setProject("p1").setRole(Role.ROLE_VIEWER).build()));
    g.put("server-admin", () -> admin(u).addVertexType(AddVertexTypeRequest.newBuilder().setName("t" + n).build()));
    return g;
  }

  @Test
  void everyRoleGetsExactlyWhatItIsEntitledTo() {
    Map<String, List<Status.Code>> expected = new LinkedHashMap<>();
    Status.Code ok = Status.Code.OK;
    Status.Code no = Status.Code.PERMISSION_DENIED;
    //                      read, write, project-admin, server-admin
    expected.put("admin", List.of(ok, ok, ok, ok));
    expected.put("padmin", List.of(ok, ok, ok, no));
    expected.put("editor", List.of(ok, ok, no, no));
    expected.put("viewer", List.of(ok, no, no, no));
    expected.put("outsider", List.of(no, no, no, no));
    for (Map.Entry<String, List<Status.Code>> e : expected.entrySet()) {
      List<Status.Code> got = groups(e.getKey()).values().stream().map(this::code).toList();
      assertThat(got).as(e.getKey()).isEqualTo(e.getValue());
    }
    // Without a token, or with a wrong one, nothing but health and reflection answers.
    for (Runnable r : groups(null).values()) {
      assertThat(code(r)).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    tokens.put("liar", "apt_not-a-real-token");
    assertThat(code(groups("liar").get("read"))).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void deploymentsNeedTheProjectAdminRole() {
    assertThat(code(() -> admin("editor").registerDeployment(RegisterDeploymentRequest.newBuilder()
        .setDeploymentTag("dep1").build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin("padmin").registerDeployment(RegisterDeploymentRequest.newBuilder()
        .setDeploymentTag("dep1").build()))).isEqualTo(Status.Code.OK);
    // Serving performance is an editor's job.
    assertThat(code(() -> tracking("editor").logServingPerf(LogServingPerfRequest.newBuilder()
        .setDeploymentTag("dep1").setMetrics(struct("rmse", 0.4)).build()))).isEqualTo(Status.Code.OK);
    assertThat(code(() -> tracking("viewer").logServingPerf(LogServingPerfRequest.newBuilder()
        .setDeploymentTag("dep1").setMetrics(struct("rmse", 0.4)).build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void resultsContainOnlyWhatTheCallerMaySee() {
    // A global dataset used by a p1 run and by a p2 run.
    String shared = tracking("editor").registerDataset(RegisterDatasetRequest.newBuilder().setName("shared")
        .build()).getDataset().getId();
    String m1 = tracking("admin").lookupEntity(LookupEntityRequest.newBuilder().setCollection("models")
        .setName("m1").build()).getEntity().getId();
    tracking("editor").logRun(LogRunRequest.newBuilder().setRunId("p1-run").setProject("p1").setModelId(m1)
        .setDatasetId(shared).build());
    String m2 = tracking("outsider").registerModel(RegisterModelRequest.newBuilder().setName("m2").setProject("p2")
        .build()).getModel().getId();
    tracking("outsider").logRun(LogRunRequest.newBuilder().setRunId("p2-run").setProject("p2").setModelId(m2)
        .setDatasetId(shared).build());

    GetLineageRequest fromShared = GetLineageRequest.newBuilder().setStartId(shared)
        .setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).build();
    assertThat(ids(lineage("outsider").getLineage(fromShared))).contains("run/p2-run").doesNotContain("run/p1-run",
        m1);
    assertThat(ids(lineage("viewer").getLineage(fromShared))).contains("run/p1-run").doesNotContain("run/p2-run");
    assertThat(ids(lineage("admin").getLineage(fromShared))).contains("run/p1-run", "run/p2-run");

    assertThat(lineage("outsider").searchRuns(SearchRunsRequest.getDefaultInstance()).getRunsList())
        .extracting(r -> r.getRun().getRunId()).containsExactly("p2-run");
    assertThat(admin("outsider").listProjects(ListProjectsRequest.getDefaultInstance()).getProjectsList())
        .extracting(Project::getName).containsExactly("p2");
    assertThat(tracking("outsider").listEntities(ListEntitiesRequest.newBuilder().setCollection("models").build())
        .getEntitiesList()).extracting(Entity::getName).containsExactly("m2");
    assertThat(lineage("outsider").aggregateRuns(AggregateRunsRequest.newBuilder().addAggregates(
        Aggregate.newBuilder().setFunction(AggregateFunction.AGGREGATE_FUNCTION_COUNT)).build())
        .getRows(0).getValues(0).getNumberValue()).isEqualTo(1);
    assertThat(code(() -> tracking("outsider").getEntity(GetEntityRequest.newBuilder().setId(m1).build())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> lineage("outsider").getHistory(GetHistoryRequest.newBuilder().setId(m1).build())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    // Writes record the authenticated user.
    assertThat(tracking("admin").getEntity(GetEntityRequest.newBuilder().setId(m2).build()).getEntity()
        .getCreator()).isEqualTo("outsider");
  }

  private static java.util.Set<String> ids(GetLineageResponse r) {
    java.util.Set<String> out = new java.util.HashSet<>();
    r.getNodesList().forEach(n -> out.add(n.getId()));
    return out;
  }

  @Test
  void revokingATokenOrDisablingAUserTakesEffectAtOnce() {
    assertThat(code(groups("editor").get("read"))).isEqualTo(Status.Code.OK);
    String id = admin("editor").listTokens(ListTokensRequest.newBuilder().setUser("editor").build())
        .getTokens(0).getTokenId();
    admin("editor").revokeToken(RevokeTokenRequest.newBuilder().setTokenId(id).build());
    assertThat(code(groups("editor").get("read"))).isEqualTo(Status.Code.UNAUTHENTICATED);

    assertThat(code(groups("viewer").get("read"))).isEqualTo(Status.Code.OK);
    admin("admin").setUserDisabled(SetUserDisabledRequest.newBuilder().setName("viewer").setDisabled(true).build());
    assertThat(code(groups("viewer").get("read"))).isEqualTo(Status.Code.UNAUTHENTICATED);
    admin("admin").setUserDisabled(SetUserDisabledRequest.newBuilder().setName("viewer").setDisabled(false).build());
    assertThat(code(groups("viewer").get("read"))).isEqualTo(Status.Code.OK);
  }

  @Test
  void tokensAreShownOnceAndStoredHashed() throws Exception {
    CreateTokenResponse t = admin("admin").createToken(CreateTokenRequest.newBuilder().setUser("editor")
        .setDescription("ci").build());
    assertThat(t.getSecret()).startsWith("apt_").hasSizeGreaterThan(40);
    assertThat(admin("admin").listTokens(ListTokensRequest.newBuilder().setUser("editor").build()).toString())
        .doesNotContain(t.getSecret());
    server.close();
    byte[] db = java.nio.file.Files.readAllBytes(dir.resolve("arangopipe.db"));
    byte[] wal = java.nio.file.Files.exists(dir.resolve("arangopipe.db-wal"))
        ? java.nio.file.Files.readAllBytes(dir.resolve("arangopipe.db-wal")) : new byte[0];
    String all = new String(db, java.nio.charset.StandardCharsets.ISO_8859_1)
        + new String(wal, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(all).doesNotContain(t.getSecret()).doesNotContain(ADMIN_TOKEN);
    server = new ArangopipeServer(ServerConfig.forTests(dir).withAuth(ADMIN_TOKEN),
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName()));
  }

  @Test
  void whoAmIAndUserManagementRules() {
    GetCurrentUserResponse me = admin("padmin").getCurrentUser(GetCurrentUserRequest.getDefaultInstance());
    assertThat(me.getAuthenticationEnabled()).isTrue();
    assertThat(me.getUser().getName()).isEqualTo("padmin");
    assertThat(me.getUser().getRolesList()).containsExactly(ProjectRole.newBuilder().setProject("p1")
        .setRole(Role.ROLE_ADMIN).build());
    assertThat(code(() -> admin("padmin").createUser(CreateUserRequest.newBuilder().setName("x").build())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin("padmin").grantRole(GrantRoleRequest.newBuilder().setUser("editor").setProject("p2")
        .setRole(Role.ROLE_VIEWER).build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin("editor").createToken(CreateTokenRequest.newBuilder().setUser("viewer").build())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin("editor").createToken(CreateTokenRequest.newBuilder().setUser("editor").build())))
        .isEqualTo(Status.Code.OK);
    assertThat(code(() -> admin("admin").setUserDisabled(SetUserDisabledRequest.newBuilder().setName("admin")
        .setDisabled(true).build()))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(code(() -> admin("admin").createUser(CreateUserRequest.newBuilder().setName("bad name").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(admin("admin").listUsers(ListUsersRequest.getDefaultInstance()).getUsersList())
        .extracting(User::getName).containsExactly("admin", "editor", "outsider", "padmin", "viewer");
    // Hidden collections cannot be reached through the graph API.
    assertThat(code(() -> tracking("admin").getEntity(GetEntityRequest.newBuilder().setId("_users/admin").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(admin("admin").listTypes(ListTypesRequest.getDefaultInstance()).getTypesList())
        .extracting(EntityType::getName).noneMatch(n -> n.startsWith("_"));
  }

  @Test
  void aServerWithUsersKeepsAuthenticationOnAfterARestartWithoutTheToken() throws Exception {
    server.close();
    ServerConfig auto = ServerConfig.forTests(dir).withAuthMode(ServerConfig.AuthMode.AUTO);
    server = new ArangopipeServer(auto, InProcessServerBuilder.forName(InProcessServerBuilder.generateName()));
    assertThat(server.authEnabled()).isTrue();
  }

  @Test
  void authenticationOnWithoutAnyUserRefusesToStart() {
    assertThatThrownBy(() -> new ArangopipeServer(ServerConfig.forTests(dir.resolve("empty")).withAuth(null),
        InProcessServerBuilder.forName(InProcessServerBuilder.generateName())))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("ARANGOPIPE_ADMIN_TOKEN");
  }
}
