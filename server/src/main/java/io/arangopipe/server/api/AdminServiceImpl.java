package io.arangopipe.server.api;

import static io.arangopipe.server.api.Calls.who;
import static io.arangopipe.server.api.Calls.idempotency;
import static io.arangopipe.server.api.Calls.unary;

import io.arangopipe.server.core.Accounts;
import io.arangopipe.server.core.MetadataCore;
import io.arangopipe.v1.*;
import io.arangopipe.server.core.Views;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.v1.AddEdgeTypeRequest;
import io.arangopipe.v1.AddEdgeTypeResponse;
import io.arangopipe.v1.AddVertexTypeRequest;
import io.arangopipe.v1.AddVertexTypeResponse;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.CreateProjectResponse;
import io.arangopipe.v1.GetProjectRequest;
import io.arangopipe.v1.GetProjectResponse;
import io.arangopipe.v1.GetTypeRequest;
import io.arangopipe.v1.GetTypeResponse;
import io.arangopipe.v1.ListProjectsRequest;
import io.arangopipe.v1.ListProjectsResponse;
import io.arangopipe.v1.ListTypesRequest;
import io.arangopipe.v1.ListTypesResponse;
import io.arangopipe.v1.RegisterDeploymentRequest;
import io.arangopipe.v1.RegisterDeploymentResponse;
import io.arangopipe.v1.RemoveEdgeTypeRequest;
import io.arangopipe.v1.RemoveEdgeTypeResponse;
import io.arangopipe.v1.RemoveVertexTypeRequest;
import io.arangopipe.v1.RemoveVertexTypeResponse;
import io.arangopipe.v1.UpdateDeploymentStatusRequest;
import io.arangopipe.v1.UpdateDeploymentStatusResponse;
import io.grpc.stub.StreamObserver;

/** AdminService: unpack, call the core, pack. */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
  private final MetadataCore core;
  private final Accounts accounts;
  private final boolean authEnabled;

  public AdminServiceImpl(MetadataCore core, Accounts accounts, boolean authEnabled) {
    this.core = core;
    this.accounts = accounts;
    this.authEnabled = authEnabled;
  }

  @Override
  public void createUser(CreateUserRequest req, StreamObserver<CreateUserResponse> out) {
    unary(out, () -> CreateUserResponse.newBuilder().setUser(Protos.user(accounts.createUser(who(), req.getName(),
        req.getServerAdmin()))).build());
  }

  @Override
  public void listUsers(ListUsersRequest req, StreamObserver<ListUsersResponse> out) {
    unary(out, () -> {
      Views.Page<Accounts.User> page = accounts.listUsers(who(), req.getPageSize(), req.getPageToken());
      ListUsersResponse.Builder b = ListUsersResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(u -> b.addUsers(Protos.user(u)));
      return b.build();
    });
  }

  @Override
  public void setUserDisabled(SetUserDisabledRequest req, StreamObserver<SetUserDisabledResponse> out) {
    unary(out, () -> SetUserDisabledResponse.newBuilder().setUser(Protos.user(accounts.setUserDisabled(who(),
        req.getName(), req.getDisabled()))).build());
  }

  @Override
  public void createToken(CreateTokenRequest req, StreamObserver<CreateTokenResponse> out) {
    unary(out, () -> {
      Accounts.NewToken t = accounts.createToken(who(), req.getUser(), req.getDescription());
      return CreateTokenResponse.newBuilder().setToken(Protos.token(t.token())).setSecret(t.secret()).build();
    });
  }

  @Override
  public void listTokens(ListTokensRequest req, StreamObserver<ListTokensResponse> out) {
    unary(out, () -> {
      ListTokensResponse.Builder b = ListTokensResponse.newBuilder();
      accounts.listTokens(who(), req.getUser()).forEach(t -> b.addTokens(Protos.token(t)));
      return b.build();
    });
  }

  @Override
  public void revokeToken(RevokeTokenRequest req, StreamObserver<RevokeTokenResponse> out) {
    unary(out, () -> RevokeTokenResponse.newBuilder().setToken(Protos.token(accounts.revokeToken(who(),
        req.getTokenId()))).build());
  }

  @Override
  public void grantRole(GrantRoleRequest req, StreamObserver<GrantRoleResponse> out) {
    unary(out, () -> GrantRoleResponse.newBuilder().setUser(Protos.user(accounts.grantRole(who(), req.getUser(),
        req.getProject(), Protos.role(req.getRole())))).build());
  }

  @Override
  public void revokeRole(RevokeRoleRequest req, StreamObserver<RevokeRoleResponse> out) {
    unary(out, () -> RevokeRoleResponse.newBuilder().setUser(Protos.user(accounts.revokeRole(who(), req.getUser(),
        req.getProject()))).build());
  }

  @Override
  public void getCurrentUser(GetCurrentUserRequest req, StreamObserver<GetCurrentUserResponse> out) {
    unary(out, () -> GetCurrentUserResponse.newBuilder().setUser(Protos.user(accounts.currentUser(who())))
        .setAuthenticationEnabled(authEnabled).build());
  }

  @Override
  public void createProject(CreateProjectRequest req, StreamObserver<CreateProjectResponse> out) {
    unary(out, () -> {
      VertexDoc p = core.createProject(who(), req.getName(), Protos.toMap("properties", req.getProperties()),
          idempotency("CreateProject", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return CreateProjectResponse.newBuilder().setProject(Protos.project(p)).build();
    });
  }

  @Override
  public void getProject(GetProjectRequest req, StreamObserver<GetProjectResponse> out) {
    unary(out, () -> GetProjectResponse.newBuilder().setProject(Protos.project(core.getProject(who(), req.getName())))
        .build());
  }

  @Override
  public void listProjects(ListProjectsRequest req, StreamObserver<ListProjectsResponse> out) {
    unary(out, () -> {
      Views.Page<VertexDoc> page = core.listProjects(who(), req.getPageSize(), req.getPageToken());
      ListProjectsResponse.Builder b = ListProjectsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(v -> b.addProjects(Protos.project(v)));
      return b.build();
    });
  }

  @Override
  public void registerDeployment(RegisterDeploymentRequest req, StreamObserver<RegisterDeploymentResponse> out) {
    unary(out, () -> {
      Views.DeploymentView d = core.registerDeployment(who(), req.getDeploymentTag(), req.getRunId(),
          Protos.deploymentStatus("status", req.getStatus()), Protos.toMap("properties", req.getProperties()), idempotency("RegisterDeployment", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return RegisterDeploymentResponse.newBuilder().setDeployment(Protos.deployment(d)).build();
    });
  }

  @Override
  public void updateDeploymentStatus(UpdateDeploymentStatusRequest req,
      StreamObserver<UpdateDeploymentStatusResponse> out) {
    unary(out, () -> {
      Views.DeploymentView d = core.updateDeploymentStatus(who(), req.getDeploymentTag(),
          Protos.deploymentStatus("status", req.getStatus()),
          idempotency("UpdateDeploymentStatus", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return UpdateDeploymentStatusResponse.newBuilder().setDeployment(Protos.deployment(d)).build();
    });
  }

  @Override
  public void addVertexType(AddVertexTypeRequest req, StreamObserver<AddVertexTypeResponse> out) {
    unary(out, () -> AddVertexTypeResponse.newBuilder().setType(Protos.type(core.addVertexType(who(), req.getName(),
        idempotency("AddVertexType", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void addEdgeType(AddEdgeTypeRequest req, StreamObserver<AddEdgeTypeResponse> out) {
    unary(out, () -> AddEdgeTypeResponse.newBuilder().setType(Protos.type(core.addEdgeType(who(), req.getName(),
        req.getFromTypesList(), req.getToTypesList(),
        idempotency("AddEdgeType", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void removeVertexType(RemoveVertexTypeRequest req, StreamObserver<RemoveVertexTypeResponse> out) {
    unary(out, () -> RemoveVertexTypeResponse.newBuilder().setDeletedCount(core.removeVertexType(who(), req.getName(),
        req.getPurge(), idempotency("RemoveVertexType", req.getRequestId(),
            req.toBuilder().clearRequestId().build()))).build());
  }

  @Override
  public void removeEdgeType(RemoveEdgeTypeRequest req, StreamObserver<RemoveEdgeTypeResponse> out) {
    unary(out, () -> RemoveEdgeTypeResponse.newBuilder().setDeletedCount(core.removeEdgeType(who(), req.getName(),
        req.getPurge(), idempotency("RemoveEdgeType", req.getRequestId(),
            req.toBuilder().clearRequestId().build()))).build());
  }

  @Override
  public void getType(GetTypeRequest req, StreamObserver<GetTypeResponse> out) {
    unary(out, () -> GetTypeResponse.newBuilder().setType(Protos.type(core.getType(who(), req.getName()))).build());
  }

  @Override
  public void listTypes(ListTypesRequest req, StreamObserver<ListTypesResponse> out) {
    unary(out, () -> {
      ListTypesResponse.Builder b = ListTypesResponse.newBuilder();
      core.listTypes(who()).forEach(t -> b.addTypes(Protos.type(t)));
      return b.build();
    });
  }
}
