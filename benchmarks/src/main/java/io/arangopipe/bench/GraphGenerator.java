package io.arangopipe.bench;

import io.arangopipe.server.core.Keys;
import io.arangopipe.server.core.Schema;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.Times;
import io.arangopipe.server.store.VertexDoc;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a realistic pipeline graph straight into a {@link GraphStore}, in large units of work, with the
 * document shapes that {@code MetadataCore} writes (the builtin collections must already exist).
 *
 * <p>Per project: datasets, featuresets derived from them ({@code featureset_dataset}), models
 * ({@code project_models}); runs interleaved across projects over one simulated year, each with its
 * modelparams and devperf and the five edges {@code logRun} writes; every so often a run carries a
 * deployment tag and a deployment is registered from it (deployment -> model, modelparams, featureset);
 * last, serving measurements for every deployment ({@code deployment_servingperf}), as many as it takes to
 * reach the requested vertex count.
 */
final class GraphGenerator {

  /** What to generate. */
  record Spec(int projects, int runs, int datasetsPerProject, int featuresetsPerDataset, int modelsPerProject,
      int deploymentsPerProject, long minVertices, int batchSize, long seed) {

    Spec {
      if (projects < 1 || runs < projects || datasetsPerProject < 1 || featuresetsPerDataset < 1
          || modelsPerProject < 1 || deploymentsPerProject < 1 || batchSize < 1) {
        throw new IllegalArgumentException("every count must be positive, and runs at least projects");
      }
    }

    int runsPerProject() {
      return runs / projects;
    }
  }

  /** The ids of what was generated (or found), to start queries from. */
  record Ids(List<String> projectNames, List<String> datasets, List<String> featuresets, List<String> deployments,
      List<String> runs) {}

  static final String CREATOR = "bench";

  private static final String[] MODEL_TYPES = {"LASSO", "Ridge", "ElasticNet", "RandomForest", "GradientBoosting",
      "XGBoost", "LinearRegression", "SVR", "KNN", "MLP"};
  private static final String[] ATTRIBUTES = {"crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "rad",
      "tax", "ptratio", "b", "lstat", "fixed acidity", "volatile acidity", "citric acid", "residual sugar"};
  private static final String[] TRANSFORMS = {"standard_scaler", "min_max_scaler", "log1p", "one_hot", "pca",
      "polynomial_2", "target_encoding", "select_k_best", "impute_median"};
  /** The simulated year the runs are spread over. */
  private static final Instant YEAR_START = Instant.parse("2024-01-01T00:00:00Z");
  private static final Duration YEAR = Duration.ofDays(365);

  private final GraphStore store;
  private final Spec spec;
  private final PrintStream out;
  private final SplittableRandom random;
  private final SimClock clock = new SimClock(YEAR_START);
  private final Keys keys = new Keys(clock);

  // Writer state.
  private final List<VertexDoc> pendingVertices = new ArrayList<>();
  private final List<EdgeDoc> pendingEdges = new ArrayList<>();
  private long vertices;
  private long edges;
  private long nextProgress;
  private long started;

  GraphGenerator(GraphStore store, Spec spec, PrintStream out) {
    this.store = store;
    this.spec = spec;
    this.out = out;
    this.random = new SplittableRandom(spec.seed());
  }

  long vertices() {
    return vertices;
  }

  long edges() {
    return edges;
  }

  /** Per project: what runs link to. */
  private record ProjectData(String name, EntityId id, List<EntityId> datasets, List<List<EntityId>> featuresets,
      List<EntityId> models, List<String> modelTypes) {}

  /** A run that a deployment was registered from. */
  private record Deployed(EntityId deployment, String tag, String project, Instant time) {}

  Ids generate() {
    started = System.nanoTime();
    long progressEvery = Math.max(spec.batchSize(), 100_000);
    nextProgress = progressEvery;
    int runsPerProject = spec.runsPerProject();
    int deployEvery = Math.max(1, runsPerProject / spec.deploymentsPerProject());

    // Fixed vertices, then runs (3 vertices each) and deployments: the rest are serving measurements.
    long fixed = (long) spec.projects() * (1 + spec.datasetsPerProject()
        + (long) spec.datasetsPerProject() * spec.featuresetsPerDataset() + spec.modelsPerProject());
    long deployments = (long) spec.projects() * Math.min(spec.deploymentsPerProject(), runsPerProject);
    long runVertices = 3L * runsPerProject * spec.projects();
    long rest = Math.max(0, spec.minVertices() - fixed - runVertices - deployments);
    int servingPerDeployment = (int) Math.max(1, (rest + deployments - 1) / deployments);
    long expectedVertices = fixed + runVertices + deployments + deployments * servingPerDeployment;
    out.printf("generating %,d projects, %,d runs (%,d per project), %,d deployments with %,d serving"
            + " measurements each: about %,d vertices, in units of %,d inserts%n", spec.projects(),
        (long) runsPerProject * spec.projects(), runsPerProject, deployments, servingPerDeployment, expectedVertices,
        spec.batchSize());

    List<String> projectNames = new ArrayList<>();
    List<String> datasetIds = new ArrayList<>();
    List<String> featuresetIds = new ArrayList<>();
    List<String> deploymentIds = new ArrayList<>();
    List<String> runIds = new ArrayList<>(runsPerProject * spec.projects());

    List<ProjectData> projects = new ArrayList<>();
    for (int p = 0; p < spec.projects(); p++) {
      projects.add(project(p));
      projectNames.add(projects.get(p).name());
      projects.get(p).datasets().forEach(d -> datasetIds.add(d.toString()));
      projects.get(p).featuresets().forEach(l -> l.forEach(f -> featuresetIds.add(f.toString())));
    }

    List<Deployed> deployed = new ArrayList<>();
    long step = YEAR.toMillis() / runsPerProject;
    for (int i = 0; i < runsPerProject; i++) {
      for (int p = 0; p < spec.projects(); p++) {
        Instant start = YEAR_START.plusMillis(i * step + random.nextLong(Math.max(1, step)));
        clock.set(start);
        ProjectData pd = projects.get(p);
        boolean deploy = i % deployEvery == deployEvery - 1 && i / deployEvery < spec.deploymentsPerProject();
        String deploymentTag = deploy ? pd.name() + "-deploy-" + (i / deployEvery) : null;
        Deployed d = run(pd, i, start, deploymentTag, runIds);
        if (d != null) {
          deployed.add(d);
          deploymentIds.add(d.deployment().toString());
        }
      }
    }

    for (Deployed d : deployed) {
      servingPerf(d, servingPerDeployment);
    }
    flush();
    long ms = (System.nanoTime() - started) / 1_000_000;
    out.printf("generated %,d vertices and %,d edges in %.1f s (%,.0f inserts/s)%n", vertices, edges, ms / 1000.0,
        (vertices + edges) * 1000.0 / Math.max(1, ms));
    return new Ids(projectNames, datasetIds, featuresetIds, deploymentIds, runIds);
  }

  private ProjectData project(int p) {
    clock.set(YEAR_START.minus(Duration.ofDays(30)).plusSeconds(p * 60L));
    String name = String.format("project-%03d", p);
    Instant now = clock.instant();
    EntityId id = new EntityId(Schema.PROJECT, keys.next());
    vertex(new VertexDoc(id, name, "", doc("description", "Regression task " + p + " of the benchmark",
        "owner", "team-" + (p % 7)), now, now, CREATOR));

    List<EntityId> datasets = new ArrayList<>();
    List<List<EntityId>> featuresets = new ArrayList<>();
    for (int d = 0; d < spec.datasetsPerProject(); d++) {
      EntityId ds = new EntityId(Schema.DATASETS, keys.next());
      String dsName = String.format("dataset-%03d", d);
      vertex(new VertexDoc(ds, dsName, name, doc("source", "s3://ml-data/" + name + "/" + dsName + ".parquet",
          "rows", 10_000L + random.nextLong(5_000_000L), "format", "parquet",
          "description", "Snapshot " + d + " of the " + name + " training data"), now, now, CREATOR));
      datasets.add(ds);
      List<EntityId> fsList = new ArrayList<>();
      for (int f = 0; f < spec.featuresetsPerDataset(); f++) {
        EntityId fs = new EntityId(Schema.FEATURESETS, keys.next());
        vertex(new VertexDoc(fs, dsName + "-fs-" + f, name, doc("attributes", pick(ATTRIBUTES, 4 + random.nextInt(8)),
            "transformations", pick(TRANSFORMS, 1 + random.nextInt(4))), now, now, CREATOR));
        edge(Schema.FEATURESET_DATASET, fs, ds, now);
        fsList.add(fs);
      }
      featuresets.add(fsList);
    }
    List<EntityId> models = new ArrayList<>();
    List<String> types = new ArrayList<>();
    for (int m = 0; m < spec.modelsPerProject(); m++) {
      EntityId model = new EntityId(Schema.MODELS, keys.next());
      String type = MODEL_TYPES[(m + p) % MODEL_TYPES.length];
      vertex(new VertexDoc(model, String.format("model-%02d-%s", m, type.toLowerCase()), name,
          doc("type", type, "task", "regression", "library", m % 3 == 0 ? "xgboost" : "sklearn"), now, now, CREATOR));
      edge(Schema.PROJECT_MODELS, id, model, now);
      models.add(model);
      types.add(type);
    }
    return new ProjectData(name, id, datasets, featuresets, models, types);
  }

  /** What {@code MetadataCore.logRun} writes, and, with a deployment tag, {@code registerDeployment}. */
  private Deployed run(ProjectData pd, int i, Instant start, String deploymentTag, List<String> runIds) {
    int d = random.nextInt(pd.datasets().size());
    EntityId dataset = pd.datasets().get(d);
    List<EntityId> fsOfDataset = pd.featuresets().get(d);
    EntityId featureset = fsOfDataset.get(random.nextInt(fsOfDataset.size()));
    int m = random.nextInt(pd.models().size());
    EntityId model = pd.models().get(m);
    Instant end = start.plusSeconds(30 + random.nextInt(3_600));
    String key = keys.next();

    Map<String, Object> runDoc = new LinkedHashMap<>();
    runDoc.put("framework", m % 3 == 0 ? "xgboost" : "sklearn");
    runDoc.put("run_id", key);
    runDoc.put("tag", pd.name() + "-exp-" + (i / 50));
    if (deploymentTag != null) {
      runDoc.put("deployment_tag", deploymentTag);
    }
    runDoc.put("start_time", Times.format(start));
    runDoc.put("end_time", Times.format(end));
    runDoc.put("status", "COMPLETED");

    double alpha = Math.pow(10, -4 + 4 * random.nextDouble());
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("alpha", alpha);
    params.put("max_depth", 2L + random.nextInt(11));
    params.put("n_estimators", 50L * (1 + random.nextInt(20)));
    params.put("l1_ratio", Math.round(random.nextDouble() * 100) / 100.0);
    params.put("run_id", key);

    // rmse between 0.15 and 0.6, a little better for mid-range alpha.
    double rmse = 0.15 + 0.45 * random.nextDouble() * (0.8 + 0.2 * Math.abs(Math.log10(alpha) + 2) / 2);
    Map<String, Object> perf = new LinkedHashMap<>();
    perf.put("rmse", rmse);
    perf.put("r2", 1 - rmse * rmse * (1.5 + random.nextDouble()));
    perf.put("mae", rmse * (0.7 + 0.1 * random.nextDouble()));
    perf.put("run_id", key);

    EntityId runId = new EntityId(Schema.RUN, key);
    EntityId paramsId = new EntityId(Schema.MODELPARAMS, keys.next());
    EntityId perfId = new EntityId(Schema.DEVPERF, keys.next());
    vertex(new VertexDoc(runId, null, pd.name(), runDoc, start, start, CREATOR));
    vertex(new VertexDoc(paramsId, null, pd.name(), params, start, start, CREATOR));
    vertex(new VertexDoc(perfId, null, pd.name(), perf, start, start, CREATOR));
    edge(Schema.RUN_MODELS, model, runId, start);
    edge(Schema.RUN_MODELPARAMS, runId, paramsId, start);
    edge(Schema.RUN_DEVPERF, runId, perfId, start);
    edge(Schema.RUN_DATASETS, runId, dataset, start);
    edge(Schema.RUN_FEATURESETS, runId, featureset, start);
    runIds.add(runId.toString());
    if (deploymentTag == null) {
      return null;
    }
    Instant at = end.plusSeconds(600);
    Map<String, Object> depDoc = new LinkedHashMap<>();
    depDoc.put("environment", random.nextInt(4) == 0 ? "staging" : "production");
    depDoc.put("tag", deploymentTag);
    depDoc.put("status", "ACTIVE");
    depDoc.put("run_id", key);
    EntityId dep = new EntityId(Schema.DEPLOYMENT, keys.next());
    vertex(new VertexDoc(dep, deploymentTag, pd.name(), depDoc, at, at, CREATOR));
    edge(Schema.DEPLOYMENT_MODEL, dep, model, at);
    edge(Schema.DEPLOYMENT_MODELPARAMS, dep, paramsId, at);
    edge(Schema.DEPLOYMENT_FEATURESET, dep, featureset, at);
    return new Deployed(dep, deploymentTag, pd.name(), at);
  }

  /** What {@code MetadataCore.logServingPerf} writes, hourly after the deployment. */
  private void servingPerf(Deployed d, int count) {
    double base = 0.2 + 0.3 * random.nextDouble();
    for (int k = 0; k < count; k++) {
      Instant t = d.time().plus(Duration.ofHours(k + 1));
      clock.set(t);
      double rmse = base * (1 + 0.002 * k + 0.05 * random.nextGaussian());
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("rmse", rmse);
      doc.put("r2", 1 - 2 * rmse * rmse);
      doc.put("requests", 1_000L + random.nextLong(50_000L));
      doc.put("latency_ms_p99", 5 + 40 * random.nextDouble());
      doc.put("time", Times.format(t));
      doc.put("deployment_tag", d.tag());
      EntityId sp = new EntityId(Schema.SERVINGPERF, keys.next());
      vertex(new VertexDoc(sp, null, d.project(), doc, t, t, CREATOR));
      edge(Schema.DEPLOYMENT_SERVINGPERF, d.deployment(), sp, t);
    }
  }

  // ---- writing --------------------------------------------------------------------------------------

  private void vertex(VertexDoc v) {
    pendingVertices.add(v);
    maybeFlush();
  }

  /** A built-in edge keyed like the seed library's: {@code <from_key>-<to_key>}. */
  private void edge(String collection, EntityId from, EntityId to, Instant at) {
    pendingEdges.add(new EdgeDoc(new EntityId(collection, from.key() + "-" + to.key()), from, to, Map.of(), at,
        CREATOR));
    maybeFlush();
  }

  private void maybeFlush() {
    if (pendingVertices.size() + pendingEdges.size() >= spec.batchSize()) {
      flush();
    }
  }

  /** One unit of work: every pending vertex, then every pending edge, in one durable transaction. */
  private void flush() {
    if (pendingVertices.isEmpty() && pendingEdges.isEmpty()) {
      return;
    }
    List<VertexDoc> vs = List.copyOf(pendingVertices);
    List<EdgeDoc> es = List.copyOf(pendingEdges);
    pendingVertices.clear();
    pendingEdges.clear();
    store.write(tx -> {
      vs.forEach(tx::insertVertex);
      es.forEach(tx::insertEdge);
      return null;
    });
    vertices += vs.size();
    edges += es.size();
    if (vertices + edges >= nextProgress) {
      nextProgress += Math.max(spec.batchSize(), 100_000);
      double s = (System.nanoTime() - started) / 1e9;
      out.printf("  %,11d vertices %,11d edges  %6.1f s  %,8.0f inserts/s%n", vertices, edges, s,
          (vertices + edges) / s);
    }
  }

  // ---- documents ------------------------------------------------------------------------------------

  private static Map<String, Object> doc(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private List<Object> pick(String[] from, int n) {
    List<String> all = new ArrayList<>(List.of(from));
    List<Object> out = new ArrayList<>();
    for (int i = 0; i < n && !all.isEmpty(); i++) {
      out.add(all.remove(random.nextInt(all.size())));
    }
    return out;
  }

  /** A clock the generator moves, so that keys (ULIDs) and times follow the simulated timeline. */
  private static final class SimClock extends Clock {
    private Instant now;

    SimClock(Instant now) {
      this.now = now;
    }

    void set(Instant t) {
      now = t;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
