package io.arangopipe.client;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import io.arangopipe.v1.AddEdgeTypeRequest;
import io.arangopipe.v1.AddEdgeTypeResponse;
import io.arangopipe.v1.AddVertexTypeRequest;
import io.arangopipe.v1.AddVertexTypeResponse;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.AggregateEntitiesRequest;
import io.arangopipe.v1.AggregateEntitiesResponse;
import io.arangopipe.v1.AggregateRunsRequest;
import io.arangopipe.v1.AggregateRunsResponse;
import io.arangopipe.v1.CompareServingToDevRequest;
import io.arangopipe.v1.CompareServingToDevResponse;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.CreateProjectResponse;
import io.arangopipe.v1.CreateTokenRequest;
import io.arangopipe.v1.CreateTokenResponse;
import io.arangopipe.v1.CreateUserRequest;
import io.arangopipe.v1.CreateUserResponse;
import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.DeploymentStatus;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.EntityType;
import io.arangopipe.v1.FindEntitiesRequest;
import io.arangopipe.v1.FindEntitiesResponse;
import io.arangopipe.v1.GetCurrentUserRequest;
import io.arangopipe.v1.GetCurrentUserResponse;
import io.arangopipe.v1.GetDeploymentRequest;
import io.arangopipe.v1.GetDeploymentResponse;
import io.arangopipe.v1.GetEntityRequest;
import io.arangopipe.v1.GetEntityResponse;
import io.arangopipe.v1.GetHistoryRequest;
import io.arangopipe.v1.GetHistoryResponse;
import io.arangopipe.v1.GetImpactRequest;
import io.arangopipe.v1.GetImpactResponse;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.GetProjectRequest;
import io.arangopipe.v1.GetProjectResponse;
import io.arangopipe.v1.GetRunRecipeRequest;
import io.arangopipe.v1.GetRunRecipeResponse;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.GetRunResponse;
import io.arangopipe.v1.GetTypeRequest;
import io.arangopipe.v1.GetTypeResponse;
import io.arangopipe.v1.GrantRoleRequest;
import io.arangopipe.v1.GrantRoleResponse;
import io.arangopipe.v1.InsertEdgeRequest;
import io.arangopipe.v1.InsertEdgeResponse;
import io.arangopipe.v1.InsertVertexRequest;
import io.arangopipe.v1.InsertVertexResponse;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.LinkEntitiesRequest;
import io.arangopipe.v1.LinkEntitiesResponse;
import io.arangopipe.v1.ListEntitiesRequest;
import io.arangopipe.v1.ListEntitiesResponse;
import io.arangopipe.v1.ListProjectsRequest;
import io.arangopipe.v1.ListProjectsResponse;
import io.arangopipe.v1.ListTokensRequest;
import io.arangopipe.v1.ListTokensResponse;
import io.arangopipe.v1.ListTypesRequest;
import io.arangopipe.v1.ListTypesResponse;
import io.arangopipe.v1.ListUsersRequest;
import io.arangopipe.v1.ListUsersResponse;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.LogRunResponse;
import io.arangopipe.v1.LogServingPerfRequest;
import io.arangopipe.v1.LogServingPerfResponse;
import io.arangopipe.v1.LookupEntityRequest;
import io.arangopipe.v1.LookupEntityResponse;
import io.arangopipe.v1.Project;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RegisterDatasetResponse;
import io.arangopipe.v1.RegisterDeploymentRequest;
import io.arangopipe.v1.RegisterDeploymentResponse;
import io.arangopipe.v1.RegisterFeaturesetRequest;
import io.arangopipe.v1.RegisterFeaturesetResponse;
import io.arangopipe.v1.RegisterModelRequest;
import io.arangopipe.v1.RegisterModelResponse;
import io.arangopipe.v1.RemoveEdgeTypeRequest;
import io.arangopipe.v1.RemoveEdgeTypeResponse;
import io.arangopipe.v1.RemoveVertexTypeRequest;
import io.arangopipe.v1.RemoveVertexTypeResponse;
import io.arangopipe.v1.RevokeRoleRequest;
import io.arangopipe.v1.RevokeRoleResponse;
import io.arangopipe.v1.RevokeTokenRequest;
import io.arangopipe.v1.RevokeTokenResponse;
import io.arangopipe.v1.Role;
import io.arangopipe.v1.SearchRunsRequest;
import io.arangopipe.v1.SearchRunsResponse;
import io.arangopipe.v1.SetUserDisabledRequest;
import io.arangopipe.v1.SetUserDisabledResponse;
import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.arangopipe.v1.UpdateDeploymentStatusRequest;
import io.arangopipe.v1.UpdateDeploymentStatusResponse;
import io.arangopipe.v1.User;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Arangopipe client: typed calls to AdminService, TrackingService and LineageService over one gRPC
 * channel.
 *
 * <pre>{@code
 * try (ArangopipeClient client = ArangopipeClient.fromEnvironment()) {
 *   Entity ds = client.registerDataset("housing-2024", Map.of("source", "s3://bucket/housing.csv"));
 *   Deployment d = client.getDeployment("housing-prod");
 * }
 * }</pre>
 *
 * <ul>
 *   <li><b>One per application.</b> The client is thread-safe and holds one channel (HTTP/2 connection);
 *       share it, and close it at shutdown. {@link #close()} first closes the {@link ServingPerfReporter}s
 *       made from it.
 *   <li><b>Deadlines.</b> Every call gets the default deadline (10 s unless the builder says otherwise);
 *       {@link #withDeadline(Duration)} gives a view with another one. Retries happen within that one
 *       deadline.
 *   <li><b>Retries.</b> Calls that fail with UNAVAILABLE or ABORTED are retried with jittered exponential
 *       backoff under the {@link RetryPolicy} (resilience4j Retry). Writes are retried safely: each write
 *       request that has no {@code request_id} gets a fresh one (a UUID) before its first attempt, and
 *       the server answers a repeated request id with the first result. CreateToken, the one write that
 *       takes no request id, is never retried.
 *   <li><b>Errors.</b> A failed call throws an {@link ArangopipeException} subclass for its status code,
 *       carrying the server's message and google.rpc details ({@link AlreadyExistsException#existingId()},
 *       {@link InvalidArgumentException#fieldViolations()}, {@link FailedPreconditionException#reason()}).
 * </ul>
 *
 * <p>Methods take and return the generated {@code io.arangopipe.v1} messages; overloads taking names and
 * {@code Map}s (converted by {@link Structs}) return the resource itself.
 */
public final class ArangopipeClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ArangopipeClient.class);

  /** Where the server listens by default. */
  public static final String DEFAULT_TARGET = "localhost:6529";
  /** The deadline of a call unless the builder or {@link #withDeadline} says otherwise. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Shared shared;
  private final Duration deadline;
  private final boolean owner;

  /** What the client and its {@link #withDeadline} views share. */
  private static final class Shared {
    final ManagedChannel managed;
    final Channel channel;
    final Retry retry;
    final RetryPolicy policy;
    final String target;
    final Set<ServingPerfReporter> reporters = ConcurrentHashMap.newKeySet();
    final AtomicBoolean closed = new AtomicBoolean();

    Shared(ManagedChannel managed, Channel channel, RetryPolicy policy, String target) {
      this.managed = managed;
      this.channel = channel;
      this.policy = policy;
      this.target = target;
      this.retry = Retry.of("arangopipe", RetryConfig.custom()
          .maxAttempts(policy.maxAttempts())
          .intervalFunction(policy.intervalFunction())
          .retryOnException(ArangopipeClient::isRetryable)
          .build());
      // When the server has been away, gRPC's own reconnect backoff may have grown to minutes; a retry
      // asks for a connection attempt now, so our (shorter, jittered) backoff is the one that counts.
      retry.getEventPublisher().onRetry(e -> managed.resetConnectBackoff());
    }
  }

  private ArangopipeClient(Shared shared, Duration deadline, boolean owner) {
    this.shared = shared;
    this.deadline = deadline;
    this.owner = owner;
  }

  /** A builder: target, TLS, token, deadline, retry policy. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client configured from the environment: {@code ARANGOPIPE_TARGET} ({@code host:port}, default
   * {@value #DEFAULT_TARGET}), {@code ARANGOPIPE_TOKEN} (bearer token), {@code ARANGOPIPE_CA} (PEM file of
   * the CA to trust; turns TLS on), {@code ARANGOPIPE_CERT} and {@code ARANGOPIPE_KEY} (PEM client
   * certificate and PKCS#8 key for mutual TLS), {@code ARANGOPIPE_TLS} ({@code true} for TLS with the
   * system's trusted CAs).
   */
  public static ArangopipeClient fromEnvironment() {
    return builder().environment(System::getenv).build();
  }

  /** The target this client talks to. */
  public String target() {
    return shared.target;
  }

  /** The deadline each call of this client (or view) gets. */
  public Duration deadline() {
    return deadline;
  }

  /** The retry policy of this client. */
  public RetryPolicy retryPolicy() {
    return shared.policy;
  }

  /**
   * A view of this client whose calls get another deadline; it shares the channel. Closing the view does
   * nothing: close the client it came from.
   */
  public ArangopipeClient withDeadline(Duration deadline) {
    return new ArangopipeClient(shared, positive("deadline", deadline), false);
  }

  /** A serving-performance reporter with default options (see {@link ServingPerfReporter}). */
  public ServingPerfReporter servingPerfReporter() {
    return servingPerfReporter(ServingPerfReporter.Options.defaults());
  }

  /**
   * A serving-performance reporter streaming over this client's channel. It is closed (flushed) by its
   * own {@link ServingPerfReporter#close()}, or at the latest by this client's {@link #close()}.
   */
  public ServingPerfReporter servingPerfReporter(ServingPerfReporter.Options options) {
    checkOpen();
    ServingPerfReporter r = new ServingPerfReporter(shared.channel, shared.managed::resetConnectBackoff, options,
        shared.reporters::remove);
    shared.reporters.add(r);
    return r;
  }

  /**
   * Closes the reporters made from this client (each flushes within its close timeout), then the
   * channel. A view made by {@link #withDeadline} does nothing here.
   */
  @Override
  public void close() {
    if (!owner || !shared.closed.compareAndSet(false, true)) {
      return;
    }
    for (ServingPerfReporter r : new ArrayList<>(shared.reporters)) {
      r.close();
    }
    shared.managed.shutdown();
    try {
      if (!shared.managed.awaitTermination(5, TimeUnit.SECONDS)) {
        shared.managed.shutdownNow();
        shared.managed.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shared.managed.shutdownNow();
    }
  }

  // ---- AdminService ----------------------------------------------------------------------------------

  /** Creates a project (or returns the equal one that exists). */
  public CreateProjectResponse createProject(CreateProjectRequest request) {
    return write(AdminServiceGrpc.getCreateProjectMethod(), request);
  }

  /** Creates a project with properties (or returns the equal one that exists). */
  public Project createProject(String name, Map<String, ?> properties) {
    return createProject(CreateProjectRequest.newBuilder().setName(name)
        .setProperties(Structs.toStruct(properties)).build()).getProject();
  }

  public GetProjectResponse getProject(GetProjectRequest request) {
    return read(AdminServiceGrpc.getGetProjectMethod(), request);
  }

  /** @throws NotFoundException no project has the name */
  public Project getProject(String name) {
    return getProject(GetProjectRequest.newBuilder().setName(name).build()).getProject();
  }

  public ListProjectsResponse listProjects(ListProjectsRequest request) {
    return read(AdminServiceGrpc.getListProjectsMethod(), request);
  }

  /** Every project, in name order, fetched a page at a time as the stream is consumed. */
  public Stream<Project> listAllProjects() {
    return pages(ListProjectsRequest.getDefaultInstance(),
        (req, token) -> req.toBuilder().setPageToken(token).build(), this::listProjects,
        ListProjectsResponse::getProjectsList, ListProjectsResponse::getNextPageToken);
  }

  public RegisterDeploymentResponse registerDeployment(RegisterDeploymentRequest request) {
    return write(AdminServiceGrpc.getRegisterDeploymentMethod(), request);
  }

  /** Registers a deployment from the run that carries the deployment tag. */
  public Deployment registerDeployment(String deploymentTag) {
    return registerDeployment(RegisterDeploymentRequest.newBuilder().setDeploymentTag(deploymentTag).build())
        .getDeployment();
  }

  public UpdateDeploymentStatusResponse updateDeploymentStatus(UpdateDeploymentStatusRequest request) {
    return write(AdminServiceGrpc.getUpdateDeploymentStatusMethod(), request);
  }

  /** Moves a deployment to another status (SCHEDULED → ACTIVE → ARCHIVED). */
  public Deployment updateDeploymentStatus(String deploymentTag, DeploymentStatus status) {
    return updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder().setDeploymentTag(deploymentTag)
        .setStatus(status).build()).getDeployment();
  }

  public AddVertexTypeResponse addVertexType(AddVertexTypeRequest request) {
    return write(AdminServiceGrpc.getAddVertexTypeMethod(), request);
  }

  /** Adds a custom vertex type (a no-op if it exists). */
  public EntityType addVertexType(String name) {
    return addVertexType(AddVertexTypeRequest.newBuilder().setName(name).build()).getType();
  }

  public AddEdgeTypeResponse addEdgeType(AddEdgeTypeRequest request) {
    return write(AdminServiceGrpc.getAddEdgeTypeMethod(), request);
  }

  /** Adds a custom edge type between vertex types (a no-op if it exists with that definition). */
  public EntityType addEdgeType(String name, List<String> fromTypes, List<String> toTypes) {
    return addEdgeType(AddEdgeTypeRequest.newBuilder().setName(name).addAllFromTypes(fromTypes)
        .addAllToTypes(toTypes).build()).getType();
  }

  public RemoveVertexTypeResponse removeVertexType(RemoveVertexTypeRequest request) {
    return write(AdminServiceGrpc.getRemoveVertexTypeMethod(), request);
  }

  public RemoveEdgeTypeResponse removeEdgeType(RemoveEdgeTypeRequest request) {
    return write(AdminServiceGrpc.getRemoveEdgeTypeMethod(), request);
  }

  public GetTypeResponse getType(GetTypeRequest request) {
    return read(AdminServiceGrpc.getGetTypeMethod(), request);
  }

  /** One vertex or edge type, with its document count. */
  public EntityType getType(String name) {
    return getType(GetTypeRequest.newBuilder().setName(name).build()).getType();
  }

  public ListTypesResponse listTypes(ListTypesRequest request) {
    return read(AdminServiceGrpc.getListTypesMethod(), request);
  }

  /** Every vertex and edge type, with document counts. */
  public List<EntityType> listTypes() {
    return listTypes(ListTypesRequest.getDefaultInstance()).getTypesList();
  }

  /** Creates a user (server administrators only). */
  public CreateUserResponse createUser(CreateUserRequest request) {
    return write(AdminServiceGrpc.getCreateUserMethod(), request);
  }

  /** Creates a user; {@code serverAdmin} makes them a server administrator. */
  public User createUser(String name, boolean serverAdmin) {
    return createUser(CreateUserRequest.newBuilder().setName(name).setServerAdmin(serverAdmin).build()).getUser();
  }

  public ListUsersResponse listUsers(ListUsersRequest request) {
    return read(AdminServiceGrpc.getListUsersMethod(), request);
  }

  /** Every user, in name order, fetched a page at a time as the stream is consumed. */
  public Stream<User> listAllUsers() {
    return pages(ListUsersRequest.getDefaultInstance(), (req, token) -> req.toBuilder().setPageToken(token).build(),
        this::listUsers, ListUsersResponse::getUsersList, ListUsersResponse::getNextPageToken);
  }

  public SetUserDisabledResponse setUserDisabled(SetUserDisabledRequest request) {
    return write(AdminServiceGrpc.getSetUserDisabledMethod(), request);
  }

  /**
   * Issues an API token. CreateToken takes no request id, so this call is <b>not retried</b>: if it fails
   * with UNAVAILABLE or DEADLINE_EXCEEDED, a token may have been made; list the user's tokens and revoke
   * the one you did not get.
   */
  public CreateTokenResponse createToken(CreateTokenRequest request) {
    return write(AdminServiceGrpc.getCreateTokenMethod(), request);
  }

  /** Issues an API token for a user; the response's {@code secret} is shown only here. Not retried. */
  public CreateTokenResponse createToken(String user, String description) {
    return createToken(CreateTokenRequest.newBuilder().setUser(user).setDescription(description).build());
  }

  public ListTokensResponse listTokens(ListTokensRequest request) {
    return read(AdminServiceGrpc.getListTokensMethod(), request);
  }

  public RevokeTokenResponse revokeToken(RevokeTokenRequest request) {
    return write(AdminServiceGrpc.getRevokeTokenMethod(), request);
  }

  public GrantRoleResponse grantRole(GrantRoleRequest request) {
    return write(AdminServiceGrpc.getGrantRoleMethod(), request);
  }

  /** Gives a user a role on a project (replacing the role they had there). */
  public User grantRole(String user, String project, Role role) {
    return grantRole(GrantRoleRequest.newBuilder().setUser(user).setProject(project).setRole(role).build())
        .getUser();
  }

  public RevokeRoleResponse revokeRole(RevokeRoleRequest request) {
    return write(AdminServiceGrpc.getRevokeRoleMethod(), request);
  }

  /** Who this client's token belongs to, and whether the server checks tokens at all. */
  public GetCurrentUserResponse getCurrentUser() {
    return read(AdminServiceGrpc.getGetCurrentUserMethod(), GetCurrentUserRequest.getDefaultInstance());
  }

  // ---- TrackingService -------------------------------------------------------------------------------

  public RegisterDatasetResponse registerDataset(RegisterDatasetRequest request) {
    return write(TrackingServiceGrpc.getRegisterDatasetMethod(), request);
  }

  /** Registers a global dataset (or returns the equal one that exists). */
  public Entity registerDataset(String name, Map<String, ?> document) {
    return registerDataset(name, "", document);
  }

  /** Registers a dataset of a project ({@code ""} for global). */
  public Entity registerDataset(String name, String project, Map<String, ?> document) {
    return registerDataset(RegisterDatasetRequest.newBuilder().setName(name).setProject(project)
        .setDocument(Structs.toStruct(document)).build()).getDataset();
  }

  public RegisterFeaturesetResponse registerFeatureset(RegisterFeaturesetRequest request) {
    return write(TrackingServiceGrpc.getRegisterFeaturesetMethod(), request);
  }

  /** Registers a global featureset derived from a dataset ({@code "datasets/..."}). */
  public Entity registerFeatureset(String name, String datasetId, Map<String, ?> document) {
    return registerFeatureset(RegisterFeaturesetRequest.newBuilder().setName(name).setDatasetId(datasetId)
        .setDocument(Structs.toStruct(document)).build()).getFeatureset();
  }

  public RegisterModelResponse registerModel(RegisterModelRequest request) {
    return write(TrackingServiceGrpc.getRegisterModelMethod(), request);
  }

  /** Registers a global model. */
  public Entity registerModel(String name, Map<String, ?> document) {
    return registerModel(name, "", document);
  }

  /** Registers a model of a project ({@code ""} for global). */
  public Entity registerModel(String name, String project, Map<String, ?> document) {
    return registerModel(RegisterModelRequest.newBuilder().setName(name).setProject(project)
        .setDocument(Structs.toStruct(document)).build()).getModel();
  }

  /** Logs a run with its params, dev performance and links, in one atomic write. */
  public LogRunResponse logRun(LogRunRequest request) {
    return write(TrackingServiceGrpc.getLogRunMethod(), request);
  }

  /** Records one serving measurement (for many, use a {@link ServingPerfReporter}). */
  public LogServingPerfResponse logServingPerf(LogServingPerfRequest request) {
    return write(TrackingServiceGrpc.getLogServingPerfMethod(), request);
  }

  /** Records one serving measurement, timed by the server. */
  public Entity logServingPerf(String deploymentTag, Map<String, ?> metrics) {
    return logServingPerf(LogServingPerfRequest.newBuilder().setDeploymentTag(deploymentTag)
        .setMetrics(Structs.toStruct(metrics)).build()).getServingPerf();
  }

  /**
   * Sends batches of serving measurements on one {@code StreamServingPerf} call and returns the server's
   * counts. Each batch without a {@code request_id} gets one first, so when the connection fails the batches
   * are sent again (under the retry policy) without being written twice. A batch the server rejects ends
   * the call with its exception; its {@code metadata()} has {@code accepted_batches} and
   * {@code accepted_records}, counted over every attempt.
   *
   * <p>For continuous reporting from a serving path, use {@link #servingPerfReporter()} instead.
   */
  public StreamServingPerfResponse streamServingPerf(List<StreamServingPerfRequest> batches) {
    List<StreamServingPerfRequest> withIds = new ArrayList<>(batches.size());
    for (StreamServingPerfRequest b : batches) {
      withIds.add(withRequestId(b));
    }
    Deadline d = Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS);
    long[] accepted = new long[2]; // batches, records written by failed attempts
    int[] next = new int[1];
    try {
      StreamServingPerfResponse last = shared.retry.executeSupplier(() -> {
        ServingPerfCall call = new ServingPerfCall(shared.channel, CallOptions.DEFAULT.withDeadline(d));
        List<StreamServingPerfRequest> rest = withIds.subList(next[0], withIds.size());
        try {
          for (StreamServingPerfRequest b : rest) {
            if (!call.send(b, () -> false)) {
              break;
            }
          }
          return call.finish(() -> false);
        } catch (StatusRuntimeException e) {
          long[] progress = progress(e);
          if (progress != null) {
            next[0] += (int) progress[0];
            accepted[0] += progress[0];
            accepted[1] += progress[1];
          }
          throw e;
        }
      });
      return last.toBuilder().setAcceptedBatches(last.getAcceptedBatches() + accepted[0])
          .setAcceptedRecords(last.getAcceptedRecords() + accepted[1]).build();
    } catch (StatusRuntimeException e) {
      com.google.rpc.Status s = StatusProto.fromThrowable(e);
      if (s != null) {
        com.google.rpc.Status.Builder b = s.toBuilder().clearDetails();
        for (com.google.protobuf.Any a : s.getDetailsList()) {
          if (a.is(ErrorInfo.class)) {
            try {
              a = com.google.protobuf.Any.pack(a.unpack(ErrorInfo.class).toBuilder()
                  .putMetadata("accepted_batches", Long.toString(accepted[0]))
                  .putMetadata("accepted_records", Long.toString(accepted[1])).build());
            } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
              // keep the detail as the server sent it
            }
          }
          b.addDetails(a);
        }
        throw Errors.map(StatusProto.toStatusRuntimeException(b.build()));
      }
      throw Errors.map(e);
    } catch (RuntimeException e) {
      throw Errors.map(e);
    }
  }

  /** The ErrorInfo metadata accepted_batches/accepted_records of a failed stream, or null. */
  static long[] progress(Throwable e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      return null;
    }
    for (com.google.protobuf.Any a : s.getDetailsList()) {
      if (a.is(ErrorInfo.class)) {
        try {
          Map<String, String> m = a.unpack(ErrorInfo.class).getMetadataMap();
          if (m.containsKey("accepted_batches") && m.containsKey("accepted_records")) {
            return new long[] {Long.parseLong(m.get("accepted_batches")), Long.parseLong(m.get("accepted_records"))};
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException | NumberFormatException ignored) {
          return null;
        }
      }
    }
    return null;
  }

  /** Any vertex or edge by its id ("collection/key"). */
  public GetEntityResponse getEntity(GetEntityRequest request) {
    return read(TrackingServiceGrpc.getGetEntityMethod(), request);
  }

  /** Any vertex or edge by its id ("collection/key"): {@code entity} or {@code edge} is set. */
  public GetEntityResponse getEntity(String id) {
    return getEntity(GetEntityRequest.newBuilder().setId(id).build());
  }

  public LookupEntityResponse lookupEntity(LookupEntityRequest request) {
    return read(TrackingServiceGrpc.getLookupEntityMethod(), request);
  }

  /** A named entity of a type ("datasets", "featuresets", "models", ...), unique across projects. */
  public Entity lookupEntity(String collection, String name) {
    return lookupEntity(LookupEntityRequest.newBuilder().setCollection(collection).setName(name).build())
        .getEntity();
  }

  public GetRunResponse getRun(GetRunRequest request) {
    return read(TrackingServiceGrpc.getGetRunMethod(), request);
  }

  /** A run with its model params and dev performance, by run id. */
  public GetRunResponse getRun(String runId) {
    return getRun(GetRunRequest.newBuilder().setRunId(runId).build());
  }

  public GetDeploymentResponse getDeployment(GetDeploymentRequest request) {
    return read(TrackingServiceGrpc.getGetDeploymentMethod(), request);
  }

  /**
   * A deployment by tag: its status and the ids of the model, model params and featureset it serves
   * (resolve them with {@link #getEntity(String)}).
   *
   * @throws NotFoundException no deployment has the tag
   */
  public Deployment getDeployment(String deploymentTag) {
    return getDeployment(GetDeploymentRequest.newBuilder().setDeploymentTag(deploymentTag).build())
        .getDeployment();
  }

  public FindEntitiesResponse findEntities(FindEntitiesRequest request) {
    return read(TrackingServiceGrpc.getFindEntitiesMethod(), request);
  }

  public ListEntitiesResponse listEntities(ListEntitiesRequest request) {
    return read(TrackingServiceGrpc.getListEntitiesMethod(), request);
  }

  /**
   * Every entity the request matches, fetched a page at a time (of the request's page size) as the
   * stream is consumed; each page is one call with its own deadline.
   */
  public Stream<Entity> listAllEntities(ListEntitiesRequest request) {
    return pages(request, (req, token) -> req.toBuilder().setPageToken(token).build(), this::listEntities,
        ListEntitiesResponse::getEntitiesList, ListEntitiesResponse::getNextPageToken);
  }

  public LinkEntitiesResponse linkEntities(LinkEntitiesRequest request) {
    return write(TrackingServiceGrpc.getLinkEntitiesMethod(), request);
  }

  public InsertVertexResponse insertVertex(InsertVertexRequest request) {
    return write(TrackingServiceGrpc.getInsertVertexMethod(), request);
  }

  public InsertEdgeResponse insertEdge(InsertEdgeRequest request) {
    return write(TrackingServiceGrpc.getInsertEdgeMethod(), request);
  }

  // ---- LineageService --------------------------------------------------------------------------------

  public GetLineageResponse getLineage(GetLineageRequest request) {
    return read(LineageServiceGrpc.getGetLineageMethod(), request);
  }

  public GetImpactResponse getImpact(GetImpactRequest request) {
    return read(LineageServiceGrpc.getGetImpactMethod(), request);
  }

  /** Every deployment downstream of an entity, with its latest serving performance. */
  public GetImpactResponse getImpact(String entityId) {
    return getImpact(GetImpactRequest.newBuilder().setEntityId(entityId).build());
  }

  public SearchRunsResponse searchRuns(SearchRunsRequest request) {
    return read(LineageServiceGrpc.getSearchRunsMethod(), request);
  }

  public AggregateRunsResponse aggregateRuns(AggregateRunsRequest request) {
    return read(LineageServiceGrpc.getAggregateRunsMethod(), request);
  }

  public AggregateEntitiesResponse aggregateEntities(AggregateEntitiesRequest request) {
    return read(LineageServiceGrpc.getAggregateEntitiesMethod(), request);
  }

  public GetRunRecipeResponse getRunRecipe(GetRunRecipeRequest request) {
    return read(LineageServiceGrpc.getGetRunRecipeMethod(), request);
  }

  /** Everything needed to redo a run. */
  public GetRunRecipeResponse getRunRecipe(String runId) {
    return getRunRecipe(GetRunRecipeRequest.newBuilder().setRunId(runId).build());
  }

  public CompareServingToDevResponse compareServingToDev(CompareServingToDevRequest request) {
    return read(LineageServiceGrpc.getCompareServingToDevMethod(), request);
  }

  public GetHistoryResponse getHistory(GetHistoryRequest request) {
    return read(LineageServiceGrpc.getGetHistoryMethod(), request);
  }

  // ---- plumbing --------------------------------------------------------------------------------------

  /** A read: retried under the policy. */
  private <Q extends Message, R> R read(MethodDescriptor<Q, R> method, Q request) {
    return invoke(method, Objects.requireNonNull(request, "request"), true);
  }

  /**
   * A write: given a request id if it takes one and has none, and then retried under the policy; a write
   * that takes no request id (CreateToken) is never retried.
   */
  private <Q extends Message, R> R write(MethodDescriptor<Q, R> method, Q request) {
    Q req = withRequestId(Objects.requireNonNull(request, "request"));
    return invoke(method, req, hasRequestId(req));
  }

  /** One unary call: one deadline for all attempts, retries if idempotent, typed errors. */
  private <Q extends Message, R> R invoke(MethodDescriptor<Q, R> method, Q req, boolean idempotent) {
    checkOpen();
    CallOptions options = CallOptions.DEFAULT.withDeadline(Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS));
    try {
      if (!idempotent) {
        return ClientCalls.blockingUnaryCall(shared.channel, method, options, req);
      }
      return shared.retry.executeSupplier(() -> ClientCalls.blockingUnaryCall(shared.channel, method, options, req));
    } catch (RuntimeException e) {
      throw Errors.map(e);
    }
  }

  private static boolean hasRequestId(Message request) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName("request_id");
    return f != null && !((String) request.getField(f)).isEmpty();
  }

  /** The request with a fresh {@code request_id} if it has that field and it is empty. */
  static <Q extends Message> Q withRequestId(Q request) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName("request_id");
    if (f == null || f.getJavaType() != FieldDescriptor.JavaType.STRING || !((String) request.getField(f)).isEmpty()) {
      return request;
    }
    @SuppressWarnings("unchecked")
    Q q = (Q) request.toBuilder().setField(f, newRequestId()).build();
    return q;
  }

  /** A new idempotency key. */
  static String newRequestId() {
    return UUID.randomUUID().toString();
  }

  static boolean isRetryable(Throwable t) {
    Status.Code code = Status.fromThrowable(t).getCode();
    return (t instanceof StatusRuntimeException) && (code == Status.Code.UNAVAILABLE || code == Status.Code.ABORTED);
  }

  private void checkOpen() {
    if (shared.closed.get()) {
      throw new IllegalStateException("the ArangopipeClient is closed");
    }
  }

  /** Page through a list RPC lazily. */
  private static <Q, R, T> Stream<T> pages(Q first, java.util.function.BiFunction<Q, String, Q> withToken,
      Function<Q, R> call, Function<R, List<T>> items, Function<R, String> nextToken) {
    Iterator<T> it = new Iterator<T>() {
      private Iterator<T> page = List.<T>of().iterator();
      private String token = "";
      private boolean done;

      @Override
      public boolean hasNext() {
        while (!page.hasNext() && !done) {
          R r = call.apply(withToken.apply(first, token));
          page = items.apply(r).iterator();
          token = nextToken.apply(r);
          done = token.isEmpty();
        }
        return page.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.next();
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED), false);
  }

  static Duration positive(String name, Duration d) {
    return RetryPolicy.Builder.positive(name, d);
  }

  /**
   * Builds an {@link ArangopipeClient}. Without TLS settings the channel is plaintext, meant for a server
   * on loopback or behind a TLS-terminating sidecar.
   */
  public static final class Builder {
    private String target = DEFAULT_TARGET;
    private boolean tls;
    private Path caFile;
    private Path certFile;
    private Path keyFile;
    private String token;
    private Duration deadline = DEFAULT_DEADLINE;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private ManagedChannelBuilder<?> channelBuilder;
    private int maxInboundMessageBytes = 16 << 20;
    private final List<ClientInterceptor> interceptors = new ArrayList<>();

    private Builder() {}

    /** {@code host:port}, or any gRPC target URI ({@code dns:///host:port}). Default {@value #DEFAULT_TARGET}. */
    public Builder target(String target) {
      Objects.requireNonNull(target, "target");
      if (target.isBlank()) {
        throw new IllegalArgumentException("target must not be blank");
      }
      this.target = target.trim();
      return this;
    }

    /** TLS with the system's trusted CAs. */
    public Builder useTls() {
      this.tls = true;
      return this;
    }

    /** Plaintext (the default): only for loopback or a trusted network. Clears any TLS setting. */
    public Builder usePlaintext() {
      this.tls = false;
      this.caFile = null;
      this.certFile = null;
      this.keyFile = null;
      return this;
    }

    /** TLS, trusting the CA certificates in this PEM file (instead of the system's). */
    public Builder trustCertificates(Path caPem) {
      this.caFile = readable("CA file", caPem);
      this.tls = true;
      return this;
    }

    /** Mutual TLS: present this PEM certificate chain and PKCS#8 PEM private key. */
    public Builder clientCertificate(Path certPem, Path keyPem) {
      this.certFile = readable("client certificate", certPem);
      this.keyFile = readable("client key", keyPem);
      this.tls = true;
      return this;
    }

    /** Sends {@code authorization: Bearer <token>} with every call; {@code null} sends none. */
    public Builder bearerToken(String token) {
      if (token != null && (token.isBlank() || token.chars().anyMatch(c -> c < 0x21 || c > 0x7e))) {
        throw new IllegalArgumentException("a bearer token is non-blank printable ASCII without spaces");
      }
      this.token = token;
      return this;
    }

    /** The deadline of every call (default 10 s). */
    public Builder defaultDeadline(Duration deadline) {
      this.deadline = positive("deadline", deadline);
      return this;
    }

    /** How failed calls are retried (default {@link RetryPolicy#defaults()}). */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The largest response accepted (default 16 MiB). */
    public Builder maxInboundMessageBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxInboundMessageBytes must be at least 1024");
      }
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /** An interceptor for every call (after the token is added). */
    public Builder intercept(ClientInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /**
     * Use this channel builder (e.g. {@code InProcessChannelBuilder.forName(name)} in tests) instead of
     * one made from the target and TLS settings. The client builds the channel and owns it.
     */
    public Builder channelBuilder(ManagedChannelBuilder<?> channelBuilder) {
      this.channelBuilder = Objects.requireNonNull(channelBuilder, "channelBuilder");
      return this;
    }

    /**
     * Applies {@code ARANGOPIPE_TARGET}, {@code ARANGOPIPE_TOKEN}, {@code ARANGOPIPE_CA},
     * {@code ARANGOPIPE_CERT}, {@code ARANGOPIPE_KEY} and {@code ARANGOPIPE_TLS} from {@code env} (e.g.
     * {@code System::getenv}); unset or empty variables change nothing.
     */
    public Builder environment(UnaryOperator<String> env) {
      String t = nonEmpty(env.apply("ARANGOPIPE_TARGET"));
      if (t != null) {
        target(t);
      }
      String tok = nonEmpty(env.apply("ARANGOPIPE_TOKEN"));
      if (tok != null) {
        bearerToken(tok);
      }
      String useTls = nonEmpty(env.apply("ARANGOPIPE_TLS"));
      if (useTls != null) {
        if (!useTls.equalsIgnoreCase("true") && !useTls.equalsIgnoreCase("false")) {
          throw new IllegalArgumentException("ARANGOPIPE_TLS must be true or false (got \"" + useTls + "\")");
        }
        this.tls = Boolean.parseBoolean(useTls);
      }
      String ca = nonEmpty(env.apply("ARANGOPIPE_CA"));
      if (ca != null) {
        trustCertificates(Paths.get(ca));
      }
      String cert = nonEmpty(env.apply("ARANGOPIPE_CERT"));
      String key = nonEmpty(env.apply("ARANGOPIPE_KEY"));
      if ((cert == null) != (key == null)) {
        throw new IllegalArgumentException("ARANGOPIPE_CERT and ARANGOPIPE_KEY go together: set both or neither");
      }
      if (cert != null) {
        clientCertificate(Paths.get(cert), Paths.get(key));
      }
      return this;
    }

    String describeTarget() {
      return channelBuilder != null ? "(custom channel)" : target;
    }

    boolean tls() {
      return tls;
    }

    public ArangopipeClient build() {
      ManagedChannelBuilder<?> b = channelBuilder;
      if (b == null) {
        b = Grpc.newChannelBuilder(target, credentials());
        if (!tls && token != null && !isLoopbackTarget(target)) {
          log.warn("Arangopipe client: sending a bearer token in plaintext to {}; use TLS (trustCertificates or"
              + " useTls) beyond loopback", target);
        }
      }
      b.maxInboundMessageSize(maxInboundMessageBytes);
      ManagedChannel managed = b.build();
      List<ClientInterceptor> all = new ArrayList<>();
      all.addAll(interceptors);
      if (token != null) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        all.add(MetadataUtils.newAttachHeadersInterceptor(headers));
      }
      // ClientInterceptors.intercept runs the last interceptor first.
      Channel channel = ClientInterceptors.intercept(managed, all);
      return new ArangopipeClient(new Shared(managed, channel, retryPolicy, describeTarget()), deadline, true);
    }

    private ChannelCredentials credentials() {
      if (!tls) {
        return InsecureChannelCredentials.create();
      }
      try {
        TlsChannelCredentials.Builder c = TlsChannelCredentials.newBuilder();
        if (caFile != null) {
          c.trustManager(caFile.toFile());
        }
        if (certFile != null) {
          c.keyManager(certFile.toFile(), keyFile.toFile());
        }
        return c.build();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the TLS files: " + e.getMessage(), e);
      }
    }

    static boolean isLoopbackTarget(String target) {
      String t = target.startsWith("dns:///") ? target.substring("dns:///".length()) : target;
      return t.startsWith("localhost:") || t.startsWith("127.") || t.startsWith("[::1]:") || t.equals("localhost");
    }

    private static Path readable(String what, Path p) {
      Objects.requireNonNull(p, what);
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException("the " + what + " " + p + " is not a readable file");
      }
      return p;
    }

    private static String nonEmpty(String s) {
      return s == null || s.isBlank() ? null : s.trim();
    }
  }

  /** Used by tests: the underlying channel. */
  ManagedChannel managedChannel() {
    return shared.managed;
  }

  @Override
  public String toString() {
    return "ArangopipeClient{target=" + shared.target + ", deadline=" + deadline + ", retry=" + shared.policy + "}";
  }
}
