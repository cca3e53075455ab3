package io.arangopipe.server.api;

import static io.arangopipe.server.api.Calls.actor;
import static io.arangopipe.server.api.Calls.idempotency;
import static io.arangopipe.server.api.Calls.unary;

import io.arangopipe.server.core.MetadataCore;
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

  public AdminServiceImpl(MetadataCore core) {
    this.core = core;
  }

  @Override
  public void createProject(CreateProjectRequest req, StreamObserver<CreateProjectResponse> out) {
    unary(out, () -> {
      VertexDoc p = core.createProject(req.getName(), Protos.toMap("properties", req.getProperties()), actor(),
          idempotency("CreateProject", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return CreateProjectResponse.newBuilder().setProject(Protos.project(p)).build();
    });
  }

  @Override
  public void getProject(GetProjectRequest req, StreamObserver<GetProjectResponse> out) {
    unary(out, () -> GetProjectResponse.newBuilder().setProject(Protos.project(core.getProject(req.getName())))
        .build());
  }

  @Override
  public void listProjects(ListProjectsRequest req, StreamObserver<ListProjectsResponse> out) {
    unary(out, () -> {
      Views.Page<VertexDoc> page = core.listProjects(req.getPageSize(), req.getPageToken());
      ListProjectsResponse.Builder b = ListProjectsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(v -> b.addProjects(Protos.project(v)));
      return b.build();
    });
  }

  @Override
  public void registerDeployment(RegisterDeploymentRequest req, StreamObserver<RegisterDeploymentResponse> out) {
    unary(out, () -> {
      Views.DeploymentView d = core.registerDeployment(req.getDeploymentTag(), req.getRunId(),
          Protos.deploymentStatus("status", req.getStatus()), Protos.toMap("properties", req.getProperties()),
          actor(), idempotency("RegisterDeployment", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return RegisterDeploymentResponse.newBuilder().setDeployment(Protos.deployment(d)).build();
    });
  }

  @Override
  public void updateDeploymentStatus(UpdateDeploymentStatusRequest req,
      StreamObserver<UpdateDeploymentStatusResponse> out) {
    unary(out, () -> {
      Views.DeploymentView d = core.updateDeploymentStatus(req.getDeploymentTag(),
          Protos.deploymentStatus("status", req.getStatus()), actor(),
          idempotency("UpdateDeploymentStatus", req.getRequestId(), req.toBuilder().clearRequestId().build()));
      return UpdateDeploymentStatusResponse.newBuilder().setDeployment(Protos.deployment(d)).build();
    });
  }

  @Override
  public void addVertexType(AddVertexTypeRequest req, StreamObserver<AddVertexTypeResponse> out) {
    unary(out, () -> AddVertexTypeResponse.newBuilder().setType(Protos.type(core.addVertexType(req.getName(),
        idempotency("AddVertexType", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void addEdgeType(AddEdgeTypeRequest req, StreamObserver<AddEdgeTypeResponse> out) {
    unary(out, () -> AddEdgeTypeResponse.newBuilder().setType(Protos.type(core.addEdgeType(req.getName(),
        req.getFromTypesList(), req.getToTypesList(),
        idempotency("AddEdgeType", req.getRequestId(), req.toBuilder().clearRequestId().build())))).build());
  }

  @Override
  public void removeVertexType(RemoveVertexTypeRequest req, StreamObserver<RemoveVertexTypeResponse> out) {
    unary(out, () -> RemoveVertexTypeResponse.newBuilder().setDeletedCount(core.removeVertexType(req.getName(),
        req.getPurge(), idempotency("RemoveVertexType", req.getRequestId(),
            req.toBuilder().clearRequestId().build()))).build());
  }

  @Override
  public void removeEdgeType(RemoveEdgeTypeRequest req, StreamObserver<RemoveEdgeTypeResponse> out) {
    unary(out, () -> RemoveEdgeTypeResponse.newBuilder().setDeletedCount(core.removeEdgeType(req.getName(),
        req.getPurge(), idempotency("RemoveEdgeType", req.getRequestId(),
            req.toBuilder().clearRequestId().build()))).build());
  }

  @Override
  public void getType(GetTypeRequest req, StreamObserver<GetTypeResponse> out) {
    unary(out, () -> GetTypeResponse.newBuilder().setType(Protos.type(core.getType(req.getName()))).build());
  }

  @Override
  public void listTypes(ListTypesRequest req, StreamObserver<ListTypesResponse> out) {
    unary(out, () -> {
      ListTypesResponse.Builder b = ListTypesResponse.newBuilder();
      core.listTypes().forEach(t -> b.addTypes(Protos.type(t)));
      return b.build();
    });
  }
}
