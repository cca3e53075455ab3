package io.arangopipe.server;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.ErrorInfo;
import io.arangopipe.v1.AdminServiceGrpc;
import io.arangopipe.v1.CreateProjectRequest;
import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.DeploymentStatus;
import io.arangopipe.v1.Edge;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.EntityType;
import io.arangopipe.v1.FindEntitiesRequest;
import io.arangopipe.v1.FindEntitiesResponse;
import io.arangopipe.v1.GetDeploymentRequest;
import io.arangopipe.v1.GetEntityRequest;
import io.arangopipe.v1.GetEntityResponse;
import io.arangopipe.v1.GetLineageRequest;
import io.arangopipe.v1.GetLineageResponse;
import io.arangopipe.v1.GetProjectRequest;
import io.arangopipe.v1.GetRunRequest;
import io.arangopipe.v1.GetRunResponse;
import io.arangopipe.v1.LineageDirection;
import io.arangopipe.v1.LineageServiceGrpc;
import io.arangopipe.v1.ListEntitiesRequest;
import io.arangopipe.v1.ListEntitiesResponse;
import io.arangopipe.v1.ListProjectsRequest;
import io.arangopipe.v1.ListTypesRequest;
import io.arangopipe.v1.LogRunRequest;
import io.arangopipe.v1.LogRunResponse;
import io.arangopipe.v1.LogServingPerfRequest;
import io.arangopipe.v1.LookupEntityRequest;
import io.arangopipe.v1.Project;
import io.arangopipe.v1.RegisterDatasetRequest;
import io.arangopipe.v1.RegisterDeploymentRequest;
import io.arangopipe.v1.RegisterFeaturesetRequest;
import io.arangopipe.v1.RegisterModelRequest;
import io.arangopipe.v1.Run;
import io.arangopipe.v1.RunStatus;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.arangopipe.v1.UpdateDeploymentStatusRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: the real server jar as a child process on a free port, reached over a real socket.
 *
 * <p>Drives the whole tracking workflow, then logs runs from several threads and kills the server with
 * {@code kill -9} part-way, twice. After each restart on the same data folder every acknowledged write is
 * there, complete; a run whose call got no answer is either absent or complete (never partial); no write
 * appears that nobody asked for; and retrying with the same {@code request_id} writes nothing twice.
 *
 * <p>There are no timing thresholds: every wait is bounded and only fails the test when the bound is hit.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class EndToEndIT {
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(15);
  private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(20);
  private static final int LOAD_THREADS = 8;
  private static final int KILL_AFTER_ACKS = 300;

  private static final String PROJECT = "e2e-wine";
  private static final String WORKFLOW_RUN = "e2e-run-1";
  private static final String WORKFLOW_TAG = "e2e-tag";
  private static final String DEPLOYMENT_TAG = "e2e-deploy";
  private static final Set<String> TRACKING_SERVICES =
      Set.of("arangopipe.v1.AdminService", "arangopipe.v1.TrackingService", "arangopipe.v1.LineageService");

  @TempDir Path tmp;

  private Path dataDir;
  private final List<JarServer> servers = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    dataDir = Files.createDirectories(tmp.resolve("data"));
  }

  @AfterEach
  void tearDown() {
    for (JarServer s : servers) {
      s.close();
    }
  }

  @Test
  void wholeWorkflowSurvivesKillDashNine() throws Exception {
    try {
      JarServer first = start();
      Workflow workflow = runWorkflow(first);
      verifyWorkflow(first, workflow);
      LoadFixture load = registerLoadFixture(first);

      Expected expected = new Expected();
      expected.runs.add(WORKFLOW_RUN);

      // First cycle: load, kill -9 part-way, restart, verify, retry what got no answer.
      LoadResult cycle1 = loadAndKill(first, load, "c1");
      JarServer second = start();
      verifyAfterRestart(second, workflow, load, cycle1, expected, "cycle 1");

      // Second cycle on the restarted server.
      LoadResult cycle2 = loadAndKill(second, load, "c2");
      JarServer third = start();
      verifyAfterRestart(third, workflow, load, cycle2, expected, "cycle 2");
      // What the first cycle acknowledged survived a second crash too.
      for (Ack ack : cycle1.acked.values()) {
        assertCompleteLoadRun(getRun(third, ack.attempt.runId), ack.attempt, load, ack);
      }
      verifyCounts(third, expected);

      // Nothing in this test is a server-side error: no server logged one (a kill -9 leaves no trace).
      for (JarServer s : servers) {
        assertThat(s.lines)
            .as("ERROR lines in the log of server %s", s.name)
            .noneMatch(line -> line.contains(" ERROR "));
      }
    } catch (Throwable t) {
      dumpLogs();
      throw t;
    }
  }

  // ---- the workflow ------------------------------------------------------------------------------

  /** Ids of what the workflow wrote, to find again after each restart. */
  private record Workflow(
      Project project,
      Entity dataset,
      Entity featureset,
      Entity model,
      LogRunResponse run,
      Deployment deployment,
      Entity servingPerf,
      List<String> catalogIds,
      Set<String> downstreamNodeIds,
      Set<String> downstreamEdgeIds) {}

  private Workflow runWorkflow(JarServer s) {
    // Projects.
    Project project = s.admin().createProject(CreateProjectRequest.newBuilder()
        .setName(PROJECT)
        .setProperties(struct("{'owner': 'e2e', 'task': 'wine quality regression'}"))
        .setRequestId("wf-project")
        .build()).getProject();
    assertThat(project.getName()).isEqualTo(PROJECT);
    assertThat(project.getId()).startsWith("project/");
    assertThat(str(project.getProperties(), "owner")).isEqualTo("e2e");
    assertThat(project.hasCreateTime()).isTrue();
    assertThat(s.admin().getProject(GetProjectRequest.newBuilder().setName(PROJECT).build()).getProject())
        .isEqualTo(project);
    assertThat(s.admin().listProjects(ListProjectsRequest.newBuilder().setPageSize(10).build()).getProjectsList())
        .extracting(Project::getName).containsExactly(PROJECT);
    // Creating the same project again (a re-run of a provisioning script) returns it.
    assertThat(s.admin().createProject(CreateProjectRequest.newBuilder()
        .setName(PROJECT)
        .setProperties(struct("{'owner': 'e2e', 'task': 'wine quality regression'}"))
        .build()).getProject().getId()).isEqualTo(project.getId());
    // With other properties it is ALREADY_EXISTS, and the existing id travels in an ErrorInfo detail.
    assertThatThrownBy(() -> s.admin().createProject(CreateProjectRequest.newBuilder()
        .setName(PROJECT).setProperties(struct("{'owner': 'someone else'}")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
          com.google.rpc.Status details = StatusProto.fromThrowable(e);
          assertThat(details).as("google.rpc.Status of %s", e).isNotNull();
          assertThat(details.getDetailsList()).filteredOn(d -> d.is(ErrorInfo.class)).singleElement()
              .satisfies(d -> assertThat(d.unpack(ErrorInfo.class).getMetadataMap())
                  .containsEntry("existing_id", project.getId()));
        });

    // Dataset, featureset derived from it, model in the project.
    Entity dataset = s.tracking().registerDataset(RegisterDatasetRequest.newBuilder()
        .setName("wine-quality")
        .setDocument(struct("{'source': 'uci', 'size': 4898, 'schema': {'target': 'quality', 'columns': 12}}"))
        .setRequestId("wf-dataset")
        .build()).getDataset();
    assertThat(dataset.getId()).startsWith("datasets/").isEqualTo("datasets/" + dataset.getKey());
    assertThat(dataset.getCollection()).isEqualTo("datasets");
    assertThat(dataset.getName()).isEqualTo("wine-quality");
    assertThat(num(dataset.getDocument(), "size")).isEqualTo(4898);

    Entity featureset = s.tracking().registerFeatureset(RegisterFeaturesetRequest.newBuilder()
        .setName("wine-features-v1")
        .setDatasetId(dataset.getId())
        .setDocument(struct("{'transformations': ['log', 'standardize'], 'attributes': {'count': 11}}"))
        .setRequestId("wf-featureset")
        .build()).getFeatureset();
    assertThat(featureset.getId()).startsWith("featuresets/");
    assertThat(featureset.getName()).isEqualTo("wine-features-v1");

    Entity model = s.tracking().registerModel(RegisterModelRequest.newBuilder()
        .setName("wine-gbm")
        .setProject(PROJECT)
        .setDocument(struct("{'type': 'gradient boosting', 'framework': 'sklearn', 'task': 'regression'}"))
        .setRequestId("wf-model")
        .build()).getModel();
    assertThat(model.getId()).startsWith("models/");
    assertThat(model.getProject()).isEqualTo(PROJECT);
    assertThat(str(model.getDocument(), "framework")).isEqualTo("sklearn");

    // The run, as one atomic write.
    LogRunRequest runRequest = LogRunRequest.newBuilder()
        .setRunId(WORKFLOW_RUN)
        .setProject(PROJECT)
        .setTag(WORKFLOW_TAG)
        .setDeploymentTag(DEPLOYMENT_TAG)
        .setStartTime(Timestamps.fromMillis(1_700_000_000_000L))
        .setEndTime(Timestamps.fromMillis(1_700_000_360_000L))
        .setStatus(RunStatus.RUN_STATUS_COMPLETED)
        .setModelId(model.getId())
        .setDatasetId(dataset.getId())
        .setFeaturesetId(featureset.getId())
        .setModelParams(struct("{'learning_rate': 0.1, 'n_estimators': 200, 'tuning': {'alpha': 0.5, 'search': 'grid'}}"))
        .setDevPerf(struct("{'rmse': 0.42, 'r2': 0.71}"))
        .setProperties(struct("{'notebook': 'train.ipynb'}"))
        .setRequestId("wf-run")
        .build();
    LogRunResponse run = s.tracking().logRun(runRequest);
    assertWorkflowRun(run.getRun(), run.getModelParams(), run.getDevPerf(), dataset, featureset, model);
    // A retry with the request_id returns the first result.
    LogRunResponse retried = s.tracking().logRun(runRequest);
    assertThat(retried.getRun().getId()).isEqualTo(run.getRun().getId());
    assertThat(retried.getModelParams().getId()).isEqualTo(run.getModelParams().getId());
    assertThat(retried.getDevPerf().getId()).isEqualTo(run.getDevPerf().getId());

    // Deployment from the run's deployment tag, its status, serving performance.
    Deployment deployment = s.admin().registerDeployment(RegisterDeploymentRequest.newBuilder()
        .setDeploymentTag(DEPLOYMENT_TAG)
        .setProperties(struct("{'endpoint': 'http://serving/wine'}"))
        .setRequestId("wf-deployment")
        .build()).getDeployment();
    assertThat(deployment.getId()).startsWith("deployment/");
    assertThat(deployment.getTag()).isEqualTo(DEPLOYMENT_TAG);
    assertThat(deployment.getProject()).isEqualTo(PROJECT);
    assertThat(deployment.getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_SCHEDULED);
    assertThat(deployment.getRunId()).isEqualTo(run.getRun().getId());
    assertThat(deployment.getModelId()).isEqualTo(model.getId());
    assertThat(deployment.getModelParamsId()).isEqualTo(run.getModelParams().getId());
    assertThat(deployment.getFeaturesetId()).isEqualTo(featureset.getId());
    assertThat(str(deployment.getProperties(), "endpoint")).isEqualTo("http://serving/wine");

    Deployment active = s.admin().updateDeploymentStatus(UpdateDeploymentStatusRequest.newBuilder()
        .setDeploymentTag(DEPLOYMENT_TAG)
        .setStatus(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE)
        .setRequestId("wf-activate")
        .build()).getDeployment();
    assertThat(active.getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);
    assertThat(active.getId()).isEqualTo(deployment.getId());

    Entity servingPerf = s.tracking().logServingPerf(LogServingPerfRequest.newBuilder()
        .setDeploymentTag(DEPLOYMENT_TAG)
        .setMetrics(struct("{'rmse': 0.45, 'requests': 1200}"))
        .setTime(Timestamps.fromMillis(1_700_000_900_000L))
        .setRequestId("wf-servingperf")
        .build()).getServingPerf();
    assertThat(servingPerf.getId()).startsWith("servingperf/");
    assertThat(num(servingPerf.getDocument(), "requests")).isEqualTo(1200);

    // Lookups.
    assertThat(s.tracking().lookupEntity(LookupEntityRequest.newBuilder()
        .setCollection("datasets").setName("wine-quality").build()).getEntity().getId())
        .isEqualTo(dataset.getId());
    assertThat(s.tracking().lookupEntity(LookupEntityRequest.newBuilder()
        .setCollection("featuresets").setName("wine-features-v1").build()).getEntity().getId())
        .isEqualTo(featureset.getId());
    assertThat(s.tracking().lookupEntity(LookupEntityRequest.newBuilder()
        .setCollection("models").setName("wine-gbm").setProject(PROJECT).build()).getEntity().getId())
        .isEqualTo(model.getId());
    GetRunResponse byTag = s.tracking().getRun(GetRunRequest.newBuilder().setTag(WORKFLOW_TAG).build());
    assertWorkflowRun(byTag.getRun(), byTag.getModelParams(), byTag.getDevPerf(), dataset, featureset, model);
    GetEntityResponse paramsById =
        s.tracking().getEntity(GetEntityRequest.newBuilder().setId(run.getModelParams().getId()).build());
    assertThat(paramsById.getEntity().getCollection()).isEqualTo("modelparams");
    assertThat(num(paramsById.getEntity().getDocument(), "tuning.alpha")).isEqualTo(0.5);
    assertThat(s.tracking().getEntity(GetEntityRequest.newBuilder().setId(model.getId()).build()).getEntity())
        .isEqualTo(model);
    assertThat(s.tracking().getDeployment(GetDeploymentRequest.newBuilder().setDeploymentTag(DEPLOYMENT_TAG)
        .build()).getDeployment().getStatus()).isEqualTo(DeploymentStatus.DEPLOYMENT_STATUS_ACTIVE);

    // Find by a nested attribute.
    FindEntitiesResponse byAlpha = s.tracking().findEntities(FindEntitiesRequest.newBuilder()
        .setCollection("modelparams").setAttribute("tuning.alpha")
        .setValue(Value.newBuilder().setNumberValue(0.5)).build());
    assertThat(byAlpha.getEntitiesList()).extracting(Entity::getId).containsExactly(run.getModelParams().getId());
    FindEntitiesResponse byTarget = s.tracking().findEntities(FindEntitiesRequest.newBuilder()
        .setCollection("datasets").setAttribute("schema.target")
        .setValue(Value.newBuilder().setStringValue("quality")).build());
    assertThat(byTarget.getEntitiesList()).extracting(Entity::getId).containsExactly(dataset.getId());
    assertThat(s.tracking().findEntities(FindEntitiesRequest.newBuilder()
        .setCollection("modelparams").setAttribute("tuning.alpha")
        .setValue(Value.newBuilder().setNumberValue(0.25)).build()).getEntitiesList()).isEmpty();

    // List page by page.
    List<String> catalogIds = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      catalogIds.add(s.tracking().registerDataset(RegisterDatasetRequest.newBuilder()
          .setName("catalog-" + i)
          .setDocument(struct("{'index': " + i + "}"))
          .build()).getDataset().getId());
    }
    List<List<String>> pages = listPages(s, "datasets", 2);
    assertThat(pages).hasSize(3).allSatisfy(p -> assertThat(p).hasSizeBetween(1, 2));
    List<String> listed = pages.stream().flatMap(List::stream).toList();
    assertThat(listed).doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(concat(List.of(dataset.getId()), catalogIds));

    // Lineage downstream from the dataset reaches the deployment and its serving performance.
    GetLineageResponse lineage = downstreamOf(s, dataset.getId());
    assertThat(lineage.getTruncated()).isFalse();
    assertThat(lineage.getNodes(0).getId()).isEqualTo(dataset.getId());
    Set<String> nodeIds = lineage.getNodesList().stream().map(Entity::getId).collect(Collectors.toSet());
    assertThat(nodeIds).containsExactlyInAnyOrder(dataset.getId(), featureset.getId(), run.getRun().getId(),
        model.getId(), run.getDevPerf().getId(), deployment.getId(), servingPerf.getId());
    assertThat(lineage.getEdgesList()).extracting(Edge::getCollection).containsExactlyInAnyOrder(
        "featureset_dataset", "run_datasets", "run_featuresets", "run_models", "run_devperf",
        "deployment_model", "deployment_featureset", "deployment_servingperf");
    assertThat(lineage.getEdgesList()).allSatisfy(e -> {
      assertThat(nodeIds).contains(e.getFromId(), e.getToId());
    });
    Set<String> edgeIds = lineage.getEdgesList().stream().map(Edge::getId).collect(Collectors.toSet());

    return new Workflow(project, dataset, featureset, model, run, active, servingPerf, catalogIds, nodeIds,
        edgeIds);
  }

  private static void assertWorkflowRun(
      Run run, Entity params, Entity perf, Entity dataset, Entity featureset, Entity model) {
    assertThat(run.getId()).isEqualTo("run/" + WORKFLOW_RUN);
    assertThat(run.getRunId()).isEqualTo(WORKFLOW_RUN);
    assertThat(run.getProject()).isEqualTo(PROJECT);
    assertThat(run.getTag()).isEqualTo(WORKFLOW_TAG);
    assertThat(run.getDeploymentTag()).isEqualTo(DEPLOYMENT_TAG);
    assertThat(Timestamps.toMillis(run.getStartTime())).isEqualTo(1_700_000_000_000L);
    assertThat(Timestamps.toMillis(run.getEndTime())).isEqualTo(1_700_000_360_000L);
    assertThat(run.getStatus()).isEqualTo(RunStatus.RUN_STATUS_COMPLETED);
    assertThat(run.getModelId()).isEqualTo(model.getId());
    assertThat(run.getDatasetId()).isEqualTo(dataset.getId());
    assertThat(run.getFeaturesetId()).isEqualTo(featureset.getId());
    assertThat(run.getModelParamsId()).isEqualTo(params.getId()).startsWith("modelparams/");
    assertThat(run.getDevPerfId()).isEqualTo(perf.getId()).startsWith("devperf/");
    assertThat(str(run.getProperties(), "notebook")).isEqualTo("train.ipynb");
    assertThat(num(params.getDocument(), "learning_rate")).isEqualTo(0.1);
    assertThat(num(params.getDocument(), "n_estimators")).isEqualTo(200);
    assertThat(num(params.getDocument(), "tuning.alpha")).isEqualTo(0.5);
    assertThat(str(params.getDocument(), "tuning.search")).isEqualTo("grid");
    assertThat(num(perf.getDocument(), "rmse")).isEqualTo(0.42);
    assertThat(num(perf.getDocument(), "r2")).isEqualTo(0.71);
  }

  /** Everything the workflow wrote is there, unchanged. */
  private void verifyWorkflow(JarServer s, Workflow w) {
    assertThat(s.admin().getProject(GetProjectRequest.newBuilder().setName(PROJECT).build()).getProject())
        .isEqualTo(w.project);
    for (Entity e : List.of(w.dataset, w.featureset, w.model, w.servingPerf)) {
      assertThat(s.tracking().getEntity(GetEntityRequest.newBuilder().setId(e.getId()).build()).getEntity())
          .as("entity %s", e.getId()).isEqualTo(e);
    }
    for (String id : w.catalogIds) {
      assertThat(s.tracking().getEntity(GetEntityRequest.newBuilder().setId(id).build()).getEntity().getId())
          .isEqualTo(id);
    }
    GetRunResponse run = getRun(s, WORKFLOW_RUN);
    assertWorkflowRun(run.getRun(), run.getModelParams(), run.getDevPerf(), w.dataset, w.featureset, w.model);
    assertThat(run.getRun()).isEqualTo(w.run.getRun());
    assertThat(run.getModelParams()).isEqualTo(w.run.getModelParams());
    assertThat(run.getDevPerf()).isEqualTo(w.run.getDevPerf());
    Deployment deployment = s.tracking().getDeployment(GetDeploymentRequest.newBuilder()
        .setDeploymentTag(DEPLOYMENT_TAG).build()).getDeployment();
    assertThat(deployment).isEqualTo(w.deployment);
    GetLineageResponse lineage = downstreamOf(s, w.dataset.getId());
    assertThat(lineage.getNodesList().stream().map(Entity::getId).collect(Collectors.toSet()))
        .isEqualTo(w.downstreamNodeIds);
    assertThat(lineage.getEdgesList().stream().map(Edge::getId).collect(Collectors.toSet()))
        .isEqualTo(w.downstreamEdgeIds);
  }

  // ---- load and kill -9 --------------------------------------------------------------------------

  /** The dataset, featureset and model the load's runs use; apart from the workflow's own. */
  private record LoadFixture(String datasetId, String featuresetId, String modelId) {}

  private LoadFixture registerLoadFixture(JarServer s) {
    String dataset = s.tracking().registerDataset(RegisterDatasetRequest.newBuilder()
        .setName("load-dataset").setProject(PROJECT).setDocument(struct("{'rows': 1000}")).build())
        .getDataset().getId();
    String featureset = s.tracking().registerFeatureset(RegisterFeaturesetRequest.newBuilder()
        .setName("load-features").setProject(PROJECT).setDatasetId(dataset).build()).getFeatureset().getId();
    String model = s.tracking().registerModel(RegisterModelRequest.newBuilder()
        .setName("load-model").setProject(PROJECT).setDocument(struct("{'type': 'linear'}")).build())
        .getModel().getId();
    return new LoadFixture(dataset, featureset, model);
  }

  private record Attempt(String runId, String requestId, int thread, int seq) {}

  private record Ack(Attempt attempt, String modelParamsId, String devPerfId) {}

  private record LoadResult(List<Attempt> attempted, Map<String, Ack> acked) {
    List<Attempt> unacknowledged() {
      return attempted.stream().filter(a -> !acked.containsKey(a.runId)).toList();
    }
  }

  private static LogRunRequest loadRequest(Attempt a, LoadFixture load) {
    return LogRunRequest.newBuilder()
        .setRunId(a.runId)
        .setProject(PROJECT)
        .setTag("load-" + a.thread)
        .setStartTime(Timestamps.fromMillis(1_700_000_000_000L + a.seq * 1000L))
        .setEndTime(Timestamps.fromMillis(1_700_000_000_500L + a.seq * 1000L))
        .setModelId(load.modelId)
        .setDatasetId(load.datasetId)
        .setFeaturesetId(load.featuresetId)
        .setModelParams(struct("{'thread': " + a.thread + ", 'seq': " + a.seq
            + ", 'optimizer': {'name': 'sgd', 'lr': 0.001}}"))
        .setDevPerf(struct("{'seq': " + a.seq + ", 'rmse': " + (1.0 + a.seq / 1000.0) + "}"))
        .setRequestId(a.requestId)
        .build();
  }

  /**
   * Logs runs from {@link #LOAD_THREADS} threads, kills the server with {@code kill -9} once
   * {@link #KILL_AFTER_ACKS} runs are acknowledged (or the bounded wait is over), and returns what was
   * attempted and what was acknowledged. Before the kill, every call must succeed.
   */
  private LoadResult loadAndKill(JarServer s, LoadFixture load, String prefix) throws Exception {
    ConcurrentLinkedQueue<Attempt> attempted = new ConcurrentLinkedQueue<>();
    Map<String, Ack> acked = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
    AtomicBoolean killing = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(LOAD_THREADS);
    try {
      for (int t = 0; t < LOAD_THREADS; t++) {
        int thread = t;
        pool.execute(() -> {
          for (int seq = 0; !stop.get(); seq++) {
            String runId = prefix + "-t" + thread + "-" + seq;
            Attempt a = new Attempt(runId, "req-" + runId, thread, seq);
            attempted.add(a);
            try {
              LogRunResponse r = s.tracking().logRun(loadRequest(a, load));
              if (!r.getRun().getRunId().equals(runId) || r.getModelParams().getId().isEmpty()
                  || r.getDevPerf().getId().isEmpty()) {
                unexpected.add(runId + ": incomplete response " + r);
                return;
              }
              acked.put(runId, new Ack(a, r.getModelParams().getId(), r.getDevPerf().getId()));
            } catch (StatusRuntimeException e) {
              if (!killing.get()) {
                unexpected.add(runId + ": " + e.getStatus());
              }
              return;
            } catch (RuntimeException e) {
              unexpected.add(runId + ": " + e);
              return;
            }
          }
        });
      }
      long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
      while (acked.size() < KILL_AFTER_ACKS && System.nanoTime() < deadline && unexpected.isEmpty()) {
        Thread.sleep(5);
      }
      assertThat(unexpected).as("calls that failed before the kill").isEmpty();
      killing.set(true);
      s.kill9();
      pool.shutdown();
      if (!pool.awaitTermination(CALL_DEADLINE.toSeconds() * 2, SECONDS)) {
        stop.set(true);
        fail("load threads did not stop after the server was killed");
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    assertThat(unexpected).as("unexpected failures").isEmpty();
    assertThat(acked).as("acknowledged runs before the kill").isNotEmpty();
    return new LoadResult(List.copyOf(attempted), Map.copyOf(acked));
  }

  /** What the store must hold: every run the test knows to exist. */
  private static final class Expected {
    final Set<String> runs = new HashSet<>();
  }

  private void verifyAfterRestart(
      JarServer s, Workflow workflow, LoadFixture load, LoadResult result, Expected expected, String cycle) {
    verifyWorkflow(s, workflow);

    // Every acknowledged run is there, complete, with the ids the acknowledgement named.
    for (Ack ack : result.acked.values()) {
      assertCompleteLoadRun(getRun(s, ack.attempt.runId), ack.attempt, load, ack);
      expected.runs.add(ack.attempt.runId);
    }

    // A run whose call got no answer is absent or complete: never partial.
    List<Attempt> unacked = result.unacknowledged();
    List<Attempt> absent = new ArrayList<>();
    int found = 0;
    for (Attempt a : unacked) {
      try {
        GetRunResponse r = s.tracking().getRun(GetRunRequest.newBuilder().setRunId(a.runId).build());
        assertCompleteLoadRun(r, a, load, null);
        expected.runs.add(a.runId);
        found++;
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).as("GetRun %s", a.runId).isEqualTo(Status.Code.NOT_FOUND);
        absent.add(a);
      }
    }
    System.out.printf("EndToEndIT %s: attempted=%d acknowledged=%d unacknowledged-found=%d"
            + " unacknowledged-absent=%d%n",
        cycle, result.attempted.size(), result.acked.size(), found, absent.size());

    // Nothing was written that nobody asked for, and no orphan params/perf documents or edges.
    verifyCounts(s, expected);

    // Retrying an acknowledged LogRun with its request_id returns the same run and writes nothing.
    List<Ack> acks = new ArrayList<>(result.acked.values());
    for (Ack ack : List.of(acks.get(0), acks.get(acks.size() - 1))) {
      LogRunResponse again = s.tracking().logRun(loadRequest(ack.attempt, load));
      assertThat(again.getRun().getRunId()).isEqualTo(ack.attempt.runId);
      assertThat(again.getModelParams().getId()).isEqualTo(ack.modelParamsId);
      assertThat(again.getDevPerf().getId()).isEqualTo(ack.devPerfId);
      // The same request_id for a different request is FAILED_PRECONDITION.
      Attempt other = new Attempt(ack.attempt.runId + "-other", ack.attempt.requestId, ack.attempt.thread,
          ack.attempt.seq);
      assertThatThrownBy(() -> s.tracking().logRun(loadRequest(other, load)))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    }

    // A client that got no answer retries with the same request_id: afterwards each run exists exactly once.
    for (Attempt a : unacked) {
      LogRunResponse r = s.tracking().logRun(loadRequest(a, load));
      assertThat(r.getRun().getRunId()).isEqualTo(a.runId);
      assertCompleteLoadRun(getRun(s, a.runId), a, load, null);
      expected.runs.add(a.runId);
    }
    verifyCounts(s, expected);
  }

  private static void assertCompleteLoadRun(GetRunResponse r, Attempt a, LoadFixture load, Ack ack) {
    Run run = r.getRun();
    assertThat(run.getId()).isEqualTo("run/" + a.runId);
    assertThat(run.getRunId()).isEqualTo(a.runId);
    assertThat(run.getProject()).isEqualTo(PROJECT);
    assertThat(run.getTag()).isEqualTo("load-" + a.thread);
    assertThat(run.getStatus()).isEqualTo(RunStatus.RUN_STATUS_COMPLETED);
    assertThat(Timestamps.toMillis(run.getStartTime())).isEqualTo(1_700_000_000_000L + a.seq * 1000L);
    assertThat(run.getModelId()).as("model of %s", a.runId).isEqualTo(load.modelId);
    assertThat(run.getDatasetId()).as("dataset of %s", a.runId).isEqualTo(load.datasetId);
    assertThat(run.getFeaturesetId()).as("featureset of %s", a.runId).isEqualTo(load.featuresetId);
    assertThat(r.hasModelParams()).as("model params of %s", a.runId).isTrue();
    assertThat(r.hasDevPerf()).as("dev perf of %s", a.runId).isTrue();
    assertThat(run.getModelParamsId()).isEqualTo(r.getModelParams().getId());
    assertThat(run.getDevPerfId()).isEqualTo(r.getDevPerf().getId());
    assertThat(num(r.getModelParams().getDocument(), "thread")).isEqualTo(a.thread);
    assertThat(num(r.getModelParams().getDocument(), "seq")).isEqualTo(a.seq);
    assertThat(str(r.getModelParams().getDocument(), "optimizer.name")).isEqualTo("sgd");
    assertThat(num(r.getDevPerf().getDocument(), "seq")).isEqualTo(a.seq);
    assertThat(num(r.getDevPerf().getDocument(), "rmse")).isEqualTo(1.0 + a.seq / 1000.0);
    if (ack != null) {
      assertThat(r.getModelParams().getId()).isEqualTo(ack.modelParamsId);
      assertThat(r.getDevPerf().getId()).isEqualTo(ack.devPerfId);
    }
  }

  /**
   * The store holds exactly the expected runs, and exactly one model-params and one dev-perf document and one
   * edge of each run link per run: nothing partial, nothing duplicated.
   */
  private static void verifyCounts(JarServer s, Expected expected) {
    List<String> runKeys = listPages(s, "run", 1000).stream().flatMap(List::stream)
        .map(id -> id.substring("run/".length())).toList();
    assertThat(runKeys).doesNotHaveDuplicates();
    assertThat(new HashSet<>(runKeys)).as("runs in the store").isEqualTo(expected.runs);

    Map<String, Long> counts = new HashMap<>();
    for (EntityType t : s.admin().listTypes(ListTypesRequest.getDefaultInstance()).getTypesList()) {
      counts.put(t.getName(), t.getDocumentCount());
    }
    long runs = expected.runs.size();
    Map<String, Long> perRun = new LinkedHashMap<>();
    for (String type : List.of("run", "modelparams", "devperf", "run_models", "run_modelparams", "run_devperf",
        "run_datasets", "run_featuresets")) {
      perRun.put(type, counts.get(type));
    }
    Map<String, Long> want = new LinkedHashMap<>();
    perRun.keySet().forEach(k -> want.put(k, runs));
    assertThat(perRun).as("document counts (ListTypes)").isEqualTo(want);
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static GetRunResponse getRun(JarServer s, String runId) {
    return s.tracking().getRun(GetRunRequest.newBuilder().setRunId(runId).build());
  }

  private static GetLineageResponse downstreamOf(JarServer s, String id) {
    return s.lineage().getLineage(GetLineageRequest.newBuilder()
        .setStartId(id).setDirection(LineageDirection.LINEAGE_DIRECTION_DOWNSTREAM).setMaxDepth(5).build());
  }

  /** Every page of a type's entities, as ids. */
  private static List<List<String>> listPages(JarServer s, String collection, int pageSize) {
    List<List<String>> pages = new ArrayList<>();
    String token = "";
    do {
      ListEntitiesResponse page = s.tracking().listEntities(ListEntitiesRequest.newBuilder()
          .setCollection(collection).setPageSize(pageSize).setPageToken(token).build());
      pages.add(page.getEntitiesList().stream().map(Entity::getId).toList());
      token = page.getNextPageToken();
      assertThat(pages.size()).as("pages of %s", collection).isLessThan(10_000);
    } while (!token.isEmpty());
    return pages;
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** A Struct from JSON written with single quotes. */
  private static Struct struct(String json) {
    Struct.Builder b = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(json.replace('\'', '"'), b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(json, e);
    }
    return b.build();
  }

  private static Value at(Struct s, String dottedPath) {
    String[] parts = dottedPath.split("\\.");
    Struct current = s;
    for (int i = 0; i < parts.length - 1; i++) {
      assertThat(current.getFieldsMap()).as("attribute %s", dottedPath).containsKey(parts[i]);
      current = current.getFieldsOrThrow(parts[i]).getStructValue();
    }
    String last = parts[parts.length - 1];
    assertThat(current.getFieldsMap()).as("attribute %s", dottedPath).containsKey(last);
    return current.getFieldsOrThrow(last);
  }

  private static double num(Struct s, String path) {
    Value v = at(s, path);
    assertThat(v.getKindCase()).as("kind of %s", path).isEqualTo(Value.KindCase.NUMBER_VALUE);
    return v.getNumberValue();
  }

  private static String str(Struct s, String path) {
    Value v = at(s, path);
    assertThat(v.getKindCase()).as("kind of %s", path).isEqualTo(Value.KindCase.STRING_VALUE);
    return v.getStringValue();
  }

  // ---- the server process ------------------------------------------------------------------------

  /** Starts the jar on a free port with the test's data folder and waits until it serves. */
  private JarServer start() throws Exception {
    // JarServer.start waits for the port file and checks that the server and each service are SERVING.
    JarServer s = JarServer.start(Integer.toString(servers.size() + 1), dataDir, tmp);
    servers.add(s);
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(s.channel)
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    for (String service : TRACKING_SERVICES) {
      assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
          .as("health of %s", service).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
    assertThat(reflectedServices(s)).containsAll(TRACKING_SERVICES)
        .contains("grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection");
    return s;
  }

  /** The services server reflection (v1) lists, as grpcurl would ask for them. */
  private static Set<String> reflectedServices(JarServer s) throws Exception {
    CompletableFuture<Set<String>> result = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(s.channel)
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), MILLISECONDS)
        .serverReflectionInfo(new StreamObserver<>() {
          final Set<String> names = new HashSet<>();

          @Override
          public void onNext(ServerReflectionResponse r) {
            r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).forEach(names::add);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            result.complete(names);
          }
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return result.get(CALL_DEADLINE.toMillis() * 2, MILLISECONDS);
  }

  private void dumpLogs() {
    for (JarServer s : servers) {
      System.out.println("---- server " + s.name + " (" + s.log + ") log tail ----");
      System.out.println(s.tail());
    }
  }
}
