package io.arangopipe.server.core;

import static io.arangopipe.server.core.Schema.DATASETS;
import static io.arangopipe.server.core.Schema.DEPLOYMENT;
import static io.arangopipe.server.core.Schema.DEVPERF;
import static io.arangopipe.server.core.Schema.FEATURESETS;
import static io.arangopipe.server.core.Schema.MODELPARAMS;
import static io.arangopipe.server.core.Schema.MODELS;
import static io.arangopipe.server.core.Schema.PROJECT;
import static io.arangopipe.server.core.Schema.RUN;
import static io.arangopipe.server.core.Schema.SERVINGPERF;

import io.arangopipe.server.core.Views.DeploymentStatus;
import io.arangopipe.server.core.Views.DeploymentView;
import io.arangopipe.server.core.Views.Direction;
import io.arangopipe.server.core.Views.Idempotency;
import io.arangopipe.server.core.Views.Lineage;
import io.arangopipe.server.core.Views.Page;
import io.arangopipe.server.core.Views.RunStatus;
import io.arangopipe.server.core.Views.RunView;
import io.arangopipe.server.core.Views.TypeInfo;
import io.arangopipe.server.core.Views.VertexOrEdge;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.FailedPreconditionException;
import io.arangopipe.server.store.Field;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.ReadTx;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.Times;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import io.arangopipe.server.store.WriteTx;
import io.arangopipe.server.store.WrittenDoc;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The domain operations, written once for every store. Each public method is one atomic operation on
 * the graph; each documents the {@link io.arangopipe.server.store.StoreException} subclasses it throws.
 * Writes take the caller's identity ({@code actor}) and an optional {@link Idempotency}: a retry with
 * the same request id returns the first result and writes nothing twice.
 */
public final class MetadataCore {

  /** Run document attributes the server owns; run properties must not use them. */
  public static final Set<String> RUN_FIELDS =
      Set.of("run_id", "tag", "deployment_tag", "start_time", "end_time", "status", "project", "name");
  /** Deployment document attributes the server owns. */
  public static final Set<String> DEPLOYMENT_FIELDS = Set.of("tag", "status", "run_id", "project", "name");

  static final int DEFAULT_DEPTH = 5;
  static final int MAX_DEPTH = 20;
  static final int DEFAULT_NODES = 1000;
  static final int MAX_NODES = 10_000;
  static final int MAX_START = 100;
  /** A traversal reads the edges of this many frontier vertices first, then twice as many, up to MAX_SLICE. */
  static final int FIRST_SLICE = 16;
  static final int MAX_SLICE = 500;
  /** The fewest edges a traversal step reads at once (see traverse). */
  static final int MIN_READ = 64;

  private final GraphStore store;
  private final Clock clock;
  private final Keys keys;

  public MetadataCore(GraphStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.keys = new Keys(clock);
    ensureBuiltins();
  }

  private void ensureBuiltins() {
    store.write(tx -> {
      for (CollectionDef def : Schema.BUILTIN) {
        if (!tx.collection(def.name()).equals(Optional.of(def))) {
          tx.putCollection(def);
        }
      }
      return null;
    });
  }

  /** Times have the stores' precision: microseconds. */
  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  public static String formatTime(Instant t) {
    return Times.format(t);
  }

  public static Instant parseTime(Object value) {
    return Times.parse(value);
  }

  // ---- idempotency -------------------------------------------------------------------------------

  /** Encodes a result for the request log and rebuilds it from a snapshot on a retry. */
  private interface Codec<T> {
    String encode(T result);

    T decode(ReadTx tx, String encoded);
  }

  private static final Codec<VertexDoc> VERTEX = new Codec<>() {
    @Override
    public String encode(VertexDoc v) {
      return v.id().toString();
    }

    @Override
    public VertexDoc decode(ReadTx tx, String encoded) {
      return tx.vertex(EntityId.of(encoded)).orElseThrow(() -> gone(encoded));
    }
  };

  private static final Codec<EdgeDoc> EDGE = new Codec<>() {
    @Override
    public String encode(EdgeDoc e) {
      return e.id().toString();
    }

    @Override
    public EdgeDoc decode(ReadTx tx, String encoded) {
      return tx.edge(EntityId.of(encoded)).orElseThrow(() -> gone(encoded));
    }
  };

  private static final Codec<List<VertexDoc>> VERTICES = new Codec<>() {
    @Override
    public String encode(List<VertexDoc> vs) {
      return Json.write(vs.stream().map(v -> v.id().toString()).toList());
    }

    @Override
    public List<VertexDoc> decode(ReadTx tx, String encoded) {
      List<VertexDoc> out = new ArrayList<>();
      for (Object id : Json.parseList(encoded)) {
        out.add(tx.vertex(EntityId.of((String) id)).orElseThrow(() -> gone(String.valueOf(id))));
      }
      return out;
    }
  };

  private static final Codec<Long> COUNT = new Codec<>() {
    @Override
    public String encode(Long n) {
      return Long.toString(n);
    }

    @Override
    public Long decode(ReadTx tx, String encoded) {
      // Earlier builds stored a stream batch's result as its ids: a batch retried across an upgrade is
      // counted from them.
      return encoded.startsWith("[") ? Json.parseList(encoded).size() : Long.parseLong(encoded);
    }
  };

  private final Codec<RunView> runCodec = new Codec<>() {
    @Override
    public String encode(RunView r) {
      return r.run().id().toString();
    }

    @Override
    public RunView decode(ReadTx tx, String encoded) {
      return loadRun(tx, tx.vertex(EntityId.of(encoded)).orElseThrow(() -> gone(encoded)));
    }
  };

  private final Codec<DeploymentView> deploymentCodec = new Codec<>() {
    @Override
    public String encode(DeploymentView d) {
      return d.deployment().id().toString();
    }

    @Override
    public DeploymentView decode(ReadTx tx, String encoded) {
      return loadDeployment(tx, tx.vertex(EntityId.of(encoded)).orElseThrow(() -> gone(encoded)));
    }
  };

  private final Codec<TypeInfo> typeCodec = new Codec<>() {
    @Override
    public String encode(TypeInfo t) {
      return t.def().name();
    }

    @Override
    public TypeInfo decode(ReadTx tx, String encoded) {
      return new TypeInfo(tx.collection(encoded).orElseThrow(() -> gone(encoded)), tx.count(encoded));
    }
  };

  private static FailedPreconditionException gone(String what) {
    return new FailedPreconditionException("REQUEST_RESULT_GONE",
        "the request_id was used before, but what it wrote (" + what + ") no longer exists; use a new request_id");
  }

  private <T> T write(Idempotency idem, Codec<T> codec, GraphStore.WriteWork<T> work) {
    return store.write(idempotent(idem, codec, work));
  }

  /** {@link #write}, answered later: see {@link GraphStore#writeAsync}. */
  private <T> java.util.concurrent.CompletableFuture<T> writeAsync(Idempotency idem, Codec<T> codec,
      GraphStore.WriteWork<T> work) {
    return store.writeAsync(idempotent(idem, codec, work));
  }

  private <T> GraphStore.WriteWork<T> idempotent(Idempotency idem, Codec<T> codec, GraphStore.WriteWork<T> work) {
    return tx -> {
      if (idem != null) {
        Optional<RequestRecord> prior = tx.request(idem.requestId());
        if (prior.isPresent()) {
          RequestRecord r = prior.get();
          if (!r.operation().equals(idem.operation()) || !r.fingerprint().equals(idem.fingerprint())) {
            throw new FailedPreconditionException("REQUEST_ID_REUSED", "request_id \"" + idem.requestId()
                + "\" was already used for a different request (" + r.operation() + "); use a new request_id");
          }
          return codec.decode(tx, r.result());
        }
      }
      T result = work.run(tx);
      if (idem != null) {
        tx.putRequest(new RequestRecord(idem.requestId(), idem.operation(), idem.fingerprint(),
            codec.encode(result), now()));
      }
      return result;
    };
  }

  // ---- projects ----------------------------------------------------------------------------------

  /**
   * Creates a project; an equal existing one is returned.
   *
   * @throws InvalidArgumentException name or properties break the rules
   * @throws AlreadyExistsException a project with the name has other properties
   */
  public VertexDoc createProject(Principal who, String name, Map<String, Object> properties, Idempotency idem) {
    String actor = who.name();
    Validate.projectName("name", name);
    Validate.document("properties", properties);
    who.requireServerAdmin("create projects");
    return write(idem, VERTEX, tx -> registerNamed(tx, PROJECT, name, "", properties, actor));
  }

  /** @throws NotFoundException no project has the name */
  public VertexDoc getProject(Principal who, String name) {
    Validate.required("name", name);
    who.requireRead(name, "the project");
    return store.read(tx -> findProject(tx, name, "name"));
  }

  /** Projects in name order. @throws InvalidArgumentException bad page size or token */
  public Page<VertexDoc> listProjects(Principal who, int pageSize, String pageToken) {
    int size = PageTokens.pageSize(pageSize);
    String hash = PageTokens.queryHash("projects");
    PageTokens.Position pos = PageTokens.decode(pageToken, hash);
    Set<String> readable = who.readableProjects();
    List<VertexDoc> rows = store.read(tx -> {
      if (readable == null) {
        return tx.findVertices(new VertexQuery(PROJECT, List.of(), VertexQuery.Order.NAME,
            pos == null ? null : pos.after(), pos == null ? null : pos.afterKey(), size + 1));
      }
      // A caller with roles sees only their projects: few, so fetch them by name.
      List<VertexDoc> mine = new ArrayList<>();
      for (String name : readable) {
        if (pos != null && name.compareTo(pos.after()) <= 0) {
          continue;
        }
        tx.findVertices(new VertexQuery(PROJECT, List.of(new Condition(new Field.Name(), name)),
            VertexQuery.Order.KEY, null, null, 1)).forEach(mine::add);
        if (mine.size() > size) {
          break;
        }
      }
      return mine;
    });
    return page(rows, size, hash, v -> v.name());
  }

  private static VertexDoc findProject(ReadTx tx, String name, String field) {
    List<VertexDoc> found = tx.findVertices(new VertexQuery(PROJECT,
        List.of(new Condition(new Field.Name(), name)), VertexQuery.Order.KEY, null, null, 1));
    if (found.isEmpty()) {
      throw new NotFoundException("project/" + name, field + ": no project is named \"" + Validate.printable(name)
          + "\"; create it with AdminService.CreateProject");
    }
    return found.get(0);
  }

  private static void requireProject(ReadTx tx, String project, String field) {
    if (!project.isEmpty() && tx.keyOfNamed(PROJECT, project, "").isEmpty()) {
      findProject(tx, project, field); // throws the same NOT_FOUND as ever
    }
  }

  // ---- registration ------------------------------------------------------------------------------

  /**
   * Inserts a named vertex, or returns the existing one with the same name when its document is equal.
   *
   * @throws AlreadyExistsException the name is taken by a different document
   */
  private VertexDoc registerNamed(
      WriteTx tx, String collection, String name, String project, Map<String, Object> doc, String actor) {
    List<VertexDoc> existing = tx.findVertices(new VertexQuery(collection,
        List.of(new Condition(new Field.Name(), name), new Condition(new Field.Project(), project)),
        VertexQuery.Order.KEY, null, null, 1));
    if (!existing.isEmpty()) {
      VertexDoc e = existing.get(0);
      if (withoutLinksNotIn(e.doc(), doc).equals(doc)) {
        return e;
      }
      throw new AlreadyExistsException(e.id().toString(), collection + " named \"" + Validate.printable(name) + "\""
          + (project.isEmpty() ? "" : " in project \"" + project + "\"") + " already exists as " + e.id()
          + " with a different document; choose another name, or register the same document");
    }
    Instant now = now();
    VertexDoc v = new VertexDoc(new EntityId(collection, keys.next()), name, project, doc, now, now, actor);
    tx.insertVertex(v);
    return v;
  }

  /** @throws InvalidArgumentException, NotFoundException (project), AlreadyExistsException */
  public VertexDoc registerDataset(Principal who, 
      String name, String project, Map<String, Object> doc, Idempotency idem) {
    String actor = who.name();
    Validate.name("name", name);
    String p = Validate.optionalProject("project", project);
    Validate.document("document", doc);
    who.requireWrite(p, "datasets");
    return write(idem, VERTEX, tx -> {
      requireProject(tx, p, "project");
      return registerNamed(tx, DATASETS, name, p, doc, actor);
    });
  }

  /**
   * Registers a featureset and its featureset -> dataset edge.
   *
   * @throws InvalidArgumentException, NotFoundException (dataset, project), AlreadyExistsException (also when
   *     the name exists for another dataset)
   */
  public VertexDoc registerFeatureset(Principal who, 
      String name, String project, String datasetId, Map<String, Object> doc, Idempotency idem) {
    String actor = who.name();
    Validate.name("name", name);
    String p = Validate.optionalProject("project", project);
    EntityId dataset = Validate.idOf("dataset_id", datasetId, DATASETS);
    Validate.document("document", doc);
    who.requireWrite(p, "featuresets");
    return write(idem, VERTEX, tx -> {
      requireProject(tx, p, "project");
      readable(who, requireVertex(tx, dataset, "dataset_id"), "dataset_id");
      VertexDoc fs = registerNamed(tx, FEATURESETS, name, p, doc, actor);
      Optional<EdgeDoc> link = tx.edgesOf(List.of(fs.id()), true, 1000).stream()
          .filter(e -> e.id().collection().equals(Schema.FEATURESET_DATASET)).findFirst();
      if (link.isEmpty()) {
        link(tx, Schema.FEATURESET_DATASET, fs.id(), dataset, actor);
      } else if (!link.get().to().equals(dataset)) {
        throw new AlreadyExistsException(fs.id().toString(), "featureset \"" + Validate.printable(name)
            + "\" already exists as " + fs.id() + ", derived from " + link.get().to() + ", not " + dataset);
      }
      return fs;
    });
  }

  /** Registers a model and, with a project, its project -> model edge. */
  public VertexDoc registerModel(Principal who, 
      String name, String project, Map<String, Object> doc, Idempotency idem) {
    String actor = who.name();
    Validate.name("name", name);
    String p = Validate.optionalProject("project", project);
    Validate.document("document", doc);
    who.requireWrite(p, "models");
    return write(idem, VERTEX, tx -> {
      VertexDoc model;
      if (p.isEmpty()) {
        model = registerNamed(tx, MODELS, name, p, doc, actor);
      } else {
        VertexDoc proj = findProject(tx, p, "project");
        model = registerNamed(tx, MODELS, name, p, doc, actor);
        if (tx.edgeBetween(Schema.PROJECT_MODELS, proj.id(), model.id()).isEmpty()) {
          link(tx, Schema.PROJECT_MODELS, proj.id(), model.id(), actor);
        }
      }
      return model;
    });
  }

  /** The vertex, if the caller may read it; PERMISSION_DENIED otherwise. */
  static VertexDoc readable(Principal who, VertexDoc v, String field) {
    if (!who.canRead(v.project())) {
      who.requireRead(v.project(), field + " " + v.id());
    }
    return v;
  }

  /** {@link #readable} and {@link #requireVertex} without reading the document: the vertex's project. */
  private static void requireReadable(Principal who, ReadTx tx, EntityId id, String field) {
    requireReadable(who, tx.projectOf(id), id, field);
  }

  /** {@link #requireReadable(Principal, ReadTx, EntityId, String)} with the projects already read. */
  private static void requireReadable(Principal who, Map<EntityId, String> projects, EntityId id, String field) {
    requireReadable(who, Optional.ofNullable(projects.get(id)), id, field);
  }

  /** The vertex {@code id}, in {@code project} if it exists, must exist and be readable. */
  private static void requireReadable(Principal who, Optional<String> project, EntityId id, String field) {
    String p = project.orElseThrow(() -> new NotFoundException(id.toString(), field + ": " + id + " does not exist"));
    if (!who.canRead(p)) {
      who.requireRead(p, field + " " + id);
    }
  }

  private static VertexDoc requireVertex(ReadTx tx, EntityId id, String field) {
    return tx.vertex(id).orElseThrow(() -> new NotFoundException(id.toString(),
        field + ": " + id + " does not exist"));
  }

  /**
   * The stored document without the {@code related_*} link lists that LinkEntities added and the request
   * does not mention, so that re-registering the original document after linking is still "the same".
   */
  private static Map<String, Object> withoutLinksNotIn(Map<String, Object> stored, Map<String, Object> request) {
    Map<String, Object> out = new LinkedHashMap<>(stored);
    out.keySet().removeIf(k -> k.startsWith("related_") && !request.containsKey(k));
    return out;
  }

  /** Writes a built-in edge keyed like the seed library's: {@code <from_key>-<to_key>}. */
  private EdgeDoc link(WriteTx tx, String collection, EntityId from, EntityId to, String actor) {
    EdgeDoc e = seedKeyedEdge(collection, from, to, actor);
    try {
      tx.insertEdge(e);
    } catch (AlreadyExistsException taken) {
      if (!taken.existingId().equals(e.id().toString())) {
        throw taken; // the collection already joins the two vertices
      }
      // Another edge has the key (keys may contain '-'): a generated key, as before.
      e = new EdgeDoc(new EntityId(collection, keys.next()), from, to, Map.of(), e.createTime(), actor);
      tx.insertEdge(e);
    }
    return e;
  }

  /** The edge {@link #link} tries first: keyed {@code <from_key>-<to_key>}, or generated when that is too long. */
  private EdgeDoc seedKeyedEdge(String collection, EntityId from, EntityId to, String actor) {
    String key = from.key() + "-" + to.key();
    if (key.length() > 254) {
      key = keys.next();
    }
    return new EdgeDoc(new EntityId(collection, key), from, to, Map.of(), now(), actor);
  }

  /**
   * {@link #link} for many edges, written together: when any of them is in the way, none is written by
   * the bulk insert and each goes through {@link #link} in order instead.
   */
  private List<EdgeDoc> linkAll(WriteTx tx, List<EdgeDoc> seedKeyed) {
    try {
      tx.insertEdges(seedKeyed);
      return seedKeyed;
    } catch (AlreadyExistsException e) {
      List<EdgeDoc> out = new ArrayList<>(seedKeyed.size());
      for (EdgeDoc s : seedKeyed) {
        out.add(link(tx, s.id().collection(), s.from(), s.to(), s.creator()));
      }
      return out;
    }
  }

  // ---- runs --------------------------------------------------------------------------------------

  /** What LogRun asks for. Times may be null (start defaults to now); strings may be empty. */
  public record RunSpec(
      String runId,
      String project,
      String tag,
      String deploymentTag,
      Instant startTime,
      Instant endTime,
      RunStatus status,
      String modelId,
      String datasetId,
      String featuresetId,
      Map<String, Object> modelParams,
      Map<String, Object> devPerf,
      Map<String, Object> properties) {}

  /**
   * Logs a run with its model params, dev performance and links in one atomic write. The same run_id
   * with the same content returns the stored run.
   *
   * @throws InvalidArgumentException a field breaks a rule
   * @throws NotFoundException the model, dataset, featureset or project does not exist
   * @throws AlreadyExistsException the run_id exists with other content
   */
  public RunView logRun(Principal who, RunSpec spec, Idempotency idem) {
    return await(logRunAsync(who, spec, idem));
  }

  /** Waits for an asynchronous write and throws what the synchronous call would have thrown. */
  private static <T> T await(java.util.concurrent.CompletableFuture<T> write) {
    try {
      return write.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /**
   * {@link #logRun} without waiting for the write: invalid requests throw at once; the future completes
   * once the run is durable, or fails with the exception {@link #logRun} would throw.
   */
  public java.util.concurrent.CompletableFuture<RunView> logRunAsync(Principal who, RunSpec spec,
      Idempotency idem) {
    String actor = who.name();
    String runKey = spec.runId() == null || spec.runId().isEmpty() ? null : Validate.key("run_id", spec.runId());
    String project = Validate.optionalProject("project", spec.project());
    String tag = Validate.tag("tag", spec.tag());
    String deploymentTag = Validate.tag("deployment_tag", spec.deploymentTag());
    EntityId model = Validate.idOf("model_id", spec.modelId(), MODELS);
    EntityId dataset = emptyToNull(spec.datasetId()) == null ? null : Validate.idOf("dataset_id", spec.datasetId(),
        DATASETS);
    EntityId featureset = emptyToNull(spec.featuresetId()) == null ? null
        : Validate.idOf("featureset_id", spec.featuresetId(), FEATURESETS);
    Instant start = spec.startTime() == null ? null : spec.startTime().truncatedTo(ChronoUnit.MICROS);
    Instant end = spec.endTime() == null ? null : spec.endTime().truncatedTo(ChronoUnit.MICROS);
    if (start != null && end != null && end.isBefore(start)) {
      throw new InvalidArgumentException("end_time", "must not be before start_time");
    }
    RunStatus status = spec.status() == null ? RunStatus.COMPLETED : spec.status();
    Map<String, Object> props = spec.properties() == null ? Map.of() : spec.properties();
    for (String k : props.keySet()) {
      if (RUN_FIELDS.contains(k)) {
        throw new InvalidArgumentException("properties." + k, "is a run field; set it through the request's own field");
      }
    }
    Validate.document("properties", props);
    Validate.document("model_params", spec.modelParams() == null ? Map.of() : spec.modelParams());
    Validate.document("dev_perf", spec.devPerf() == null ? Map.of() : spec.devPerf());

    who.requireWrite(project, "runs");
    // The documents (with their JSON) and keys are made here, on the caller's thread: the store's single
    // writer thread is what limits LogRun, so the unit of work only checks and inserts.
    String key = runKey == null ? keys.next() : runKey;
    Instant now = now();
    Map<String, Object> runFields = new LinkedHashMap<>(props);
    runFields.put("run_id", key);
    if (!tag.isEmpty()) {
      runFields.put("tag", tag);
    }
    if (!deploymentTag.isEmpty()) {
      runFields.put("deployment_tag", deploymentTag);
    }
    runFields.put("start_time", formatTime(start == null ? now : start));
    if (end != null) {
      runFields.put("end_time", formatTime(end));
    }
    runFields.put("status", status.name());
    WrittenDoc runDoc = WrittenDoc.of(runFields);
    WrittenDoc params = WrittenDoc.of(withRunId("model_params", spec.modelParams(), key));
    WrittenDoc perf = WrittenDoc.of(withRunId("dev_perf", spec.devPerf(), key));
    String paramsKey = keys.next();
    String perfKey = keys.next();
    return writeAsync(idem, runCodec, tx -> {
      requireProject(tx, project, "project");
      List<EntityId> refs = new ArrayList<>(3);
      refs.add(model);
      if (dataset != null) {
        refs.add(dataset);
      }
      if (featureset != null) {
        refs.add(featureset);
      }
      Map<EntityId, String> projects = tx.projectsOf(refs);
      requireReadable(who, projects, model, "model_id");
      if (dataset != null) {
        requireReadable(who, projects, dataset, "dataset_id");
      }
      if (featureset != null) {
        requireReadable(who, projects, featureset, "featureset_id");
      }

      EntityId runId = new EntityId(RUN, key);
      // A key this server just generated is new: only a caller's run_id can have been logged before.
      Optional<VertexDoc> existing = runKey == null ? Optional.empty() : tx.vertex(runId);
      if (existing.isPresent()) {
        RunView old = loadRun(tx, existing.get());
        Map<String, Object> oldDoc = new LinkedHashMap<>(old.run().doc());
        Map<String, Object> newDoc = new LinkedHashMap<>(runDoc);
        if (start == null) { // the caller let the server pick the start: ignore it when comparing
          oldDoc.remove("start_time");
          newDoc.remove("start_time");
        }
        boolean same = oldDoc.equals(newDoc)
            && old.run().project().equals(project)
            && Objects.equals(old.model(), model)
            && Objects.equals(old.dataset(), dataset)
            && Objects.equals(old.featureset(), featureset)
            && old.modelParams() != null && old.modelParams().doc().equals(params)
            && old.devPerf() != null && old.devPerf().doc().equals(perf);
        if (same) {
          return old;
        }
        throw new AlreadyExistsException(runId.toString(), "run_id \"" + key + "\" was already logged with"
            + " different content; use a new run_id");
      }
      VertexDoc run = new VertexDoc(runId, null, project, runDoc, now, now, actor);
      VertexDoc p = new VertexDoc(new EntityId(MODELPARAMS, paramsKey), null, project, params, now, now, actor);
      VertexDoc d = new VertexDoc(new EntityId(DEVPERF, perfKey), null, project, perf, now, now, actor);
      tx.insertVertices(List.of(run, p, d));
      List<EdgeDoc> edges = new ArrayList<>(5);
      edges.add(seedKeyedEdge(Schema.RUN_MODELS, model, runId, actor));
      edges.add(seedKeyedEdge(Schema.RUN_MODELPARAMS, runId, p.id(), actor));
      edges.add(seedKeyedEdge(Schema.RUN_DEVPERF, runId, d.id(), actor));
      if (dataset != null) {
        edges.add(seedKeyedEdge(Schema.RUN_DATASETS, runId, dataset, actor));
      }
      if (featureset != null) {
        edges.add(seedKeyedEdge(Schema.RUN_FEATURESETS, runId, featureset, actor));
      }
      linkAll(tx, edges);
      return new RunView(run, p, d, model, dataset, featureset);
    });
  }

  private static Map<String, Object> withRunId(String field, Map<String, Object> doc, String runKey) {
    Map<String, Object> out = new LinkedHashMap<>(doc == null ? Map.of() : doc);
    Object given = out.get("run_id");
    if (given != null && !runKey.equals(given)) {
      throw new InvalidArgumentException(field + ".run_id", "must equal the run's run_id \"" + runKey
          + "\" when given (got " + Json.write(given) + ")");
    }
    out.put("run_id", runKey);
    return out;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** Assembles a run's view from its edges. */
  RunView loadRun(ReadTx tx, VertexDoc run) {
    EntityId model = null;
    EntityId dataset = null;
    EntityId featureset = null;
    EntityId params = null;
    EntityId perf = null;
    for (EdgeDoc e : tx.edgesOf(List.of(run.id()), true, 10_000)) {
      switch (e.id().collection()) {
        case Schema.RUN_MODELPARAMS -> params = e.to();
        case Schema.RUN_DEVPERF -> perf = e.to();
        case Schema.RUN_DATASETS -> dataset = e.to();
        case Schema.RUN_FEATURESETS -> featureset = e.to();
        default -> { }
      }
    }
    for (EdgeDoc e : tx.edgesOf(List.of(run.id()), false, 10_000)) {
      if (e.id().collection().equals(Schema.RUN_MODELS)) {
        model = e.from();
      }
    }
    VertexDoc p = params == null ? null : tx.vertex(params).orElse(null);
    VertexDoc d = perf == null ? null : tx.vertex(perf).orElse(null);
    return new RunView(run, p, d, model, dataset, featureset);
  }

  /**
   * A run by run_id, or the most recently started run with a tag.
   *
   * @throws InvalidArgumentException neither or both given
   * @throws NotFoundException no such run
   */
  public RunView getRun(Principal who, String runId, String tag) {
    boolean byId = runId != null && !runId.isEmpty();
    boolean byTag = tag != null && !tag.isEmpty();
    if (byId == byTag) {
      throw new InvalidArgumentException("run_id", "give exactly one of run_id and tag");
    }
    if (byId) {
      String key = Validate.key("run_id", runId);
      return store.read(tx -> loadRun(tx, readable(who, tx.vertex(new EntityId(RUN, key)).orElseThrow(
          () -> new NotFoundException("run/" + key, "run_id: no run has run_id \"" + key + "\"")), "run_id")));
    }
    Validate.tag("tag", tag);
    return store.read(tx -> {
      VertexDoc latest = latestRun(tx, "tag", tag, who);
      if (latest == null) {
        throw new NotFoundException("run", "tag: no run has tag \"" + Validate.printable(tag) + "\"");
      }
      return loadRun(tx, latest);
    });
  }

  private static List<VertexDoc> runsWith(ReadTx tx, String attribute, String value, int limit) {
    return tx.findVertices(new VertexQuery(RUN, List.of(new Condition(new Field.Doc(List.of(attribute)), value)),
        VertexQuery.Order.KEY, null, null, limit));
  }

  private static VertexDoc latestRun(ReadTx tx, String attribute, String value, Principal who) {
    return runsWith(tx, attribute, value, 100_000).stream().filter(r -> who.canRead(r.project()))
        .max(Comparator.comparing((VertexDoc v) -> String.valueOf(v.doc().get("start_time")))
            .thenComparing(VertexDoc::createTime))
        .orElse(null);
  }

  // ---- deployments -------------------------------------------------------------------------------

  /**
   * Registers a deployment from the run carrying the deployment tag, linked to its model, params and
   * featureset, in one write.
   *
   * @throws FailedPreconditionException no run, or several runs, carry the tag
   * @throws AlreadyExistsException a deployment with the tag came from another run or has other properties
   */
  public DeploymentView registerDeployment(Principal who, String deploymentTag, String runId, DeploymentStatus status,
      Map<String, Object> properties, Idempotency idem) {
    String actor = who.name();
    Validate.required("deployment_tag", deploymentTag);
    Validate.tag("deployment_tag", deploymentTag);
    String runKey = emptyToNull(runId) == null ? null : Validate.key("run_id", runId);
    DeploymentStatus initial = status == null ? DeploymentStatus.SCHEDULED : status;
    if (initial == DeploymentStatus.ARCHIVED) {
      throw new InvalidArgumentException("status", "a new deployment cannot start ARCHIVED");
    }
    Map<String, Object> props = properties == null ? Map.of() : properties;
    for (String k : props.keySet()) {
      if (DEPLOYMENT_FIELDS.contains(k)) {
        throw new InvalidArgumentException("properties." + k, "is a deployment field and cannot be a property");
      }
    }
    Validate.document("properties", props);
    return write(idem, deploymentCodec, tx -> {
      List<VertexDoc> runs = runsWith(tx, "deployment_tag", deploymentTag, 11);
      VertexDoc run;
      if (runKey != null) {
        run = runs.stream().filter(r -> r.id().key().equals(runKey)).findFirst().orElseThrow(
            () -> new FailedPreconditionException("RUN_NOT_TAGGED", "run_id: run \"" + runKey
                + "\" does not carry deployment tag \"" + deploymentTag + "\""));
      } else if (runs.isEmpty()) {
        throw new FailedPreconditionException("DEPLOYMENT_TAG_NOT_FOUND", "deployment_tag: no run carries"
            + " deployment tag \"" + Validate.printable(deploymentTag) + "\"; log a run with that deployment_tag"
            + " first");
      } else if (runs.size() > 1) {
        throw new FailedPreconditionException("AMBIGUOUS_DEPLOYMENT_TAG", "deployment_tag: "
            + (runs.size() > 10 ? "more than 10" : String.valueOf(runs.size())) + " runs carry deployment tag \""
            + Validate.printable(deploymentTag) + "\" (" + runs.stream().limit(10).map(r -> r.id().key()).toList()
            + "); choose one with run_id");
      } else {
        run = runs.get(0);
      }
      who.requireAdmin(run.project(), "deployments");
      RunView rv = loadRun(tx, run);
      if (rv.model() == null) {
        throw new FailedPreconditionException("RUN_HAS_NO_MODEL", "run \"" + run.id().key()
            + "\" is linked to no model, so there is nothing to deploy");
      }
      List<VertexDoc> existing = tx.findVertices(new VertexQuery(DEPLOYMENT,
          List.of(new Condition(new Field.Name(), deploymentTag)), VertexQuery.Order.KEY, null, null, 1));
      if (!existing.isEmpty()) {
        VertexDoc e = existing.get(0);
        Map<String, Object> oldProps = new LinkedHashMap<>(e.doc());
        oldProps.keySet().removeAll(DEPLOYMENT_FIELDS);
        if (run.id().key().equals(e.doc().get("run_id")) && oldProps.equals(props)) {
          return loadDeployment(tx, e);
        }
        throw new AlreadyExistsException(e.id().toString(), "deployment \"" + Validate.printable(deploymentTag)
            + "\" already exists as " + e.id() + " (from run \"" + e.doc().get("run_id")
            + "\") with different content; use another deployment tag");
      }
      Instant now = now();
      Map<String, Object> doc = new LinkedHashMap<>(props);
      doc.put("tag", deploymentTag);
      doc.put("status", initial.name());
      doc.put("run_id", run.id().key());
      VertexDoc dep = new VertexDoc(new EntityId(DEPLOYMENT, keys.next()), deploymentTag, run.project(), doc, now,
          now, actor);
      tx.insertVertex(dep);
      link(tx, Schema.DEPLOYMENT_MODEL, dep.id(), rv.model(), actor);
      if (rv.modelParams() != null) {
        link(tx, Schema.DEPLOYMENT_MODELPARAMS, dep.id(), rv.modelParams().id(), actor);
      }
      if (rv.featureset() != null) {
        link(tx, Schema.DEPLOYMENT_FEATURESET, dep.id(), rv.featureset(), actor);
      }
      return new DeploymentView(dep, rv.model(), rv.modelParams() == null ? null : rv.modelParams().id(),
          rv.featureset());
    });
  }

  DeploymentView loadDeployment(ReadTx tx, VertexDoc dep) {
    EntityId model = null;
    EntityId params = null;
    EntityId fs = null;
    for (EdgeDoc e : tx.edgesOf(List.of(dep.id()), true, 100_000)) {
      switch (e.id().collection()) {
        case Schema.DEPLOYMENT_MODEL -> model = e.to();
        case Schema.DEPLOYMENT_MODELPARAMS -> params = e.to();
        case Schema.DEPLOYMENT_FEATURESET -> fs = e.to();
        default -> { }
      }
    }
    return new DeploymentView(dep, model, params, fs);
  }

  private static VertexDoc findDeployment(ReadTx tx, String tag) {
    return findDeployment(tx, tag, "deployment_tag");
  }

  private static VertexDoc findDeployment(ReadTx tx, String tag, String field) {
    Validate.required(field, tag);
    List<VertexDoc> found = tx.findVertices(new VertexQuery(DEPLOYMENT,
        List.of(new Condition(new Field.Name(), tag)), VertexQuery.Order.KEY, null, null, 1));
    if (found.isEmpty()) {
      throw new NotFoundException("deployment", field + ": no deployment has tag \""
          + Validate.printable(tag) + "\"; register it with AdminService.RegisterDeployment");
    }
    return found.get(0);
  }

  /** @throws NotFoundException no deployment has the tag */
  public DeploymentView getDeployment(Principal who, String tag) {
    return store.read(tx -> loadDeployment(tx, readable(who, findDeployment(tx, tag), "deployment_tag")));
  }

  /**
   * Changes a deployment's status: SCHEDULED -> ACTIVE -> ARCHIVED, SCHEDULED -> ARCHIVED.
   *
   * @throws NotFoundException no deployment has the tag
   * @throws FailedPreconditionException the transition is not allowed
   */
  public DeploymentView updateDeploymentStatus(Principal who, String tag, DeploymentStatus status,
      Idempotency idem) {
    String actor = who.name();
    Validate.required("deployment_tag", tag);
    if (status == null) {
      throw new InvalidArgumentException("status", "is required: SCHEDULED, ACTIVE or ARCHIVED");
    }
    return write(idem, deploymentCodec, tx -> {
      VertexDoc dep = findDeployment(tx, tag);
      who.requireAdmin(dep.project(), "deployments");
      DeploymentStatus current = DeploymentStatus.valueOf(String.valueOf(dep.doc().get("status")));
      if (current == status) {
        return loadDeployment(tx, dep);
      }
      boolean allowed = (current == DeploymentStatus.SCHEDULED && status != DeploymentStatus.SCHEDULED)
          || (current == DeploymentStatus.ACTIVE && status == DeploymentStatus.ARCHIVED);
      if (!allowed) {
        throw new FailedPreconditionException("INVALID_STATUS_TRANSITION", "status: deployment \""
            + Validate.printable(tag) + "\" is " + current + " and cannot become " + status
            + " (allowed: SCHEDULED -> ACTIVE -> ARCHIVED, SCHEDULED -> ARCHIVED)");
      }
      Map<String, Object> doc = new LinkedHashMap<>(dep.doc());
      doc.put("status", status.name());
      return loadDeployment(tx, replace(tx, dep, doc, actor, "STATUS_CHANGED"));
    });
  }

  /** One serving-performance measurement; {@code time} may be null (now). */
  public record ServingRecord(String deploymentTag, Map<String, Object> metrics, Instant time) {}

  /** The most records one batch may hold. */
  public static final int MAX_SERVING_BATCH = 1000;

  /**
   * Records serving performance for a deployment.
   *
   * @throws NotFoundException no deployment has the tag
   * @throws FailedPreconditionException the deployment is archived
   */
  public VertexDoc logServingPerf(Principal who, String tag, Map<String, Object> metrics, Instant time,
      Idempotency idem) {
    return await(servingPerfAsync(who, List.of(new ServingRecord(tag, metrics, time)), "", idem, VERTICES,
        written -> written, BatchGuard.NONE)).get(0);
  }

  /**
   * Records a batch of serving measurements in one atomic write, all or none, without waiting for it:
   * invalid batches throw at once; the future completes with the number of records once the batch is
   * durable. {@code field} prefixes field names in errors (e.g. {@code records}). {@code guard} is asked
   * first inside the unit of work, on the store's writer thread, and told when the unit fails: a stream
   * with several batches in flight uses it so that no batch is written after an earlier batch of the
   * same stream failed.
   */
  public java.util.concurrent.CompletableFuture<Long> logServingPerfBatchAsync(Principal who,
      List<ServingRecord> records, String field, Idempotency idem, BatchGuard guard) {
    // The request record holds the count, not the ids: that is all a stream's answer carries, and 1,000
    // ids made the record span several overflow pages.
    return servingPerfAsync(who, records, field, idem, COUNT, written -> (long) written.size(), guard);
  }

  /** LogServingPerf and a stream's batch: the same write, answered in two ways. */
  private <T> java.util.concurrent.CompletableFuture<T> servingPerfAsync(Principal who,
      List<ServingRecord> records, String field, Idempotency idem, Codec<T> codec,
      java.util.function.Function<List<VertexDoc>, T> answer, BatchGuard guard) {
    String actor = who.name();
    if (records.isEmpty() || records.size() > MAX_SERVING_BATCH) {
      throw new InvalidArgumentException(field.isEmpty() ? "records" : field, "a batch holds 1 to "
          + MAX_SERVING_BATCH + " records (got " + records.size() + ")");
    }
    for (int i = 0; i < records.size(); i++) {
      String prefix = field.isEmpty() ? "" : field + "[" + i + "].";
      ServingRecord r = records.get(i);
      Validate.required(prefix + "deployment_tag", r.deploymentTag());
      Map<String, Object> m = r.metrics() == null ? Map.of() : r.metrics();
      for (String reserved : List.of("time", "deployment_tag")) {
        if (m.containsKey(reserved)) {
          throw new InvalidArgumentException(prefix + "metrics." + reserved, "is set by the server; use the"
              + " request's own field");
        }
      }
      Validate.document(prefix + "metrics", m);
    }
    // Keys and documents (with their JSON) are made here, on the caller's thread: the store's single writer
    // thread is what limits a stream, so the unit of work only looks up the deployments and inserts.
    Instant now = now();
    List<String> spKeys = new ArrayList<>(records.size());
    List<WrittenDoc> docs = new ArrayList<>(records.size());
    for (ServingRecord r : records) {
      Map<String, Object> doc = new LinkedHashMap<>(r.metrics() == null ? Map.of() : r.metrics());
      doc.put("time", formatTime(r.time() == null ? now : r.time().truncatedTo(ChronoUnit.MICROS)));
      doc.put("deployment_tag", r.deploymentTag());
      docs.add(WrittenDoc.of(doc));
      spKeys.add(keys.next());
    }
    GraphStore.WriteWork<T> unit = idempotent(idem, codec, tx -> {
      Map<String, VertexDoc> deployments = new HashMap<>();
      List<VertexDoc> out = new ArrayList<>(records.size());
      List<EdgeDoc> edges = new ArrayList<>(records.size());
      for (int i = 0; i < records.size(); i++) {
        String prefix = field.isEmpty() ? "" : field + "[" + i + "].";
        ServingRecord r = records.get(i);
        VertexDoc dep = deployments.get(r.deploymentTag());
        if (dep == null) {
          dep = findDeployment(tx, r.deploymentTag(), prefix + "deployment_tag");
          who.requireWrite(dep.project(), "serving performance");
          deployments.put(r.deploymentTag(), dep);
        }
        if (DeploymentStatus.ARCHIVED.name().equals(dep.doc().get("status"))) {
          throw new FailedPreconditionException("DEPLOYMENT_ARCHIVED", prefix + "deployment_tag: deployment \""
              + Validate.printable(r.deploymentTag()) + "\" is archived and takes no serving performance");
        }
        VertexDoc sp = new VertexDoc(new EntityId(SERVINGPERF, spKeys.get(i)), null, dep.project(), docs.get(i),
            now, now, actor);
        out.add(sp);
        edges.add(seedKeyedEdge(Schema.DEPLOYMENT_SERVINGPERF, dep.id(), sp.id(), actor));
      }
      tx.insertVertices(out);
      linkAll(tx, edges);
      return answer.apply(out);
    });
    return store.writeAsync(tx -> {
      RuntimeException refused = guard.refusal();
      if (refused != null) {
        throw refused;
      }
      try {
        return unit.run(tx);
      } catch (io.arangopipe.server.store.StoreException e) {
        guard.failed();
        throw e;
      }
    });
  }

  /**
   * Orders the batches of one stream that are in flight together: both methods run on the store's writer
   * thread, in the order the batches were submitted. A store may run a batch's write more than once and
   * undo all but the last attempt, so a failure must refuse only the batches submitted after the one
   * that failed.
   */
  public interface BatchGuard {
    BatchGuard NONE = new BatchGuard() {
      @Override
      public RuntimeException refusal() {
        return null;
      }

      @Override
      public void failed() {}
    };

    /** Why this batch must not be written (an earlier one failed), or null to write it. */
    RuntimeException refusal();

    /** The batch failed (and wrote nothing). */
    void failed();
  }

  /** Replaces a vertex's document and records what changed in its history. */
  private VertexDoc replace(WriteTx tx, VertexDoc old, Map<String, Object> doc, String actor, String action) {
    Instant now = now();
    VertexDoc updated = old.withDoc(doc, now);
    tx.replaceVertex(updated);
    Map<String, Object> changes = new LinkedHashMap<>();
    Set<String> names = new java.util.TreeSet<>(old.doc().keySet());
    names.addAll(doc.keySet());
    for (String k : names) {
      Object before = old.doc().get(k);
      Object after = doc.get(k);
      if (!Objects.equals(before, after) || old.doc().containsKey(k) != doc.containsKey(k)) {
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("old", before);
        change.put("new", after);
        changes.put(k, change);
      }
    }
    tx.appendHistory(new io.arangopipe.server.store.HistoryRecord(0, old.id(), now, actor, action, changes));
    return updated;
  }

  // ---- lookups -----------------------------------------------------------------------------------

  /** @throws InvalidArgumentException malformed id; @throws NotFoundException no such document */
  public VertexOrEdge getEntity(Principal who, String id) {
    EntityId eid = Validate.id("id", id);
    return store.read(tx -> {
      CollectionDef def = requireType(tx, eid.collection(), "id");
      if (def.isEdge()) {
        EdgeDoc e = tx.edge(eid).orElseThrow(() -> notFound(eid));
        for (EntityId end : List.of(e.from(), e.to())) {
          tx.vertex(end).ifPresent(v -> readable(who, v, "id"));
        }
        return new VertexOrEdge(null, e);
      }
      return new VertexOrEdge(readable(who, tx.vertex(eid).orElseThrow(() -> notFound(eid)), "id"), null);
    });
  }

  private static NotFoundException notFound(EntityId id) {
    return new NotFoundException(id.toString(), "id: " + id + " does not exist");
  }

  private static CollectionDef requireType(ReadTx tx, String name, String field) {
    return tx.collection(name).orElseThrow(() -> new NotFoundException(name, field + ": there is no type \""
        + Validate.printable(name) + "\"; AdminService.ListTypes lists them", "TYPE_NOT_FOUND"));
  }

  static CollectionDef requireVertexTypeOf(ReadTx tx, String name, String field) {
    return requireVertexType(tx, name, field);
  }

  private static CollectionDef requireVertexType(ReadTx tx, String name, String field) {
    CollectionDef def = requireType(tx, name, field);
    if (def.isEdge()) {
      throw new InvalidArgumentException(field, "\"" + name + "\" is an edge type; give a vertex type");
    }
    return def;
  }

  /**
   * A named entity by type and name; without a project the name must be unique across projects.
   *
   * @throws NotFoundException no such type or entity
   * @throws FailedPreconditionException several projects have an entity with the name
   */
  public VertexDoc lookupEntity(Principal who, String collection, String name, String project) {
    Validate.typeName("collection", collection);
    Validate.required("name", name);
    String p = project == null ? "" : project;
    if (!p.isEmpty()) {
      who.requireRead(p, collection);
    }
    return store.read(tx -> {
      requireVertexType(tx, collection, "collection");
      List<Condition> conds = new ArrayList<>();
      conds.add(new Condition(new Field.Name(), name));
      if (!p.isEmpty()) {
        conds.add(new Condition(new Field.Project(), p));
      }
      List<VertexDoc> found = tx.findVertices(new VertexQuery(collection, conds, VertexQuery.Order.KEY, null, null,
          11)).stream().filter(v -> who.canRead(v.project())).toList();
      if (found.isEmpty()) {
        throw new NotFoundException(collection, "name: no " + collection + " entity is named \""
            + Validate.printable(name) + "\"" + (p.isEmpty() ? "" : " in project \"" + p + "\""));
      }
      if (found.size() > 1) {
        throw new FailedPreconditionException("AMBIGUOUS_NAME", "name: " + collection + " named \""
            + Validate.printable(name) + "\" exist in several projects "
            + found.stream().map(v -> "\"" + v.project() + "\"").distinct().toList() + "; give the project");
      }
      return found.get(0);
    });
  }

  private static Page<VertexDoc> page(List<VertexDoc> rows, int size, String hash,
      Function<VertexDoc, String> orderValue) {
    if (rows.size() <= size) {
      return new Page<>(rows, "");
    }
    List<VertexDoc> items = rows.subList(0, size);
    VertexDoc last = items.get(size - 1);
    return new Page<>(List.copyOf(items), PageTokens.encode(hash, orderValue.apply(last), last.id().key()));
  }

  // ---- links and custom types --------------------------------------------------------------------

  /**
   * The seed library's link: appends {@code to_id} to the from entity's {@code related_<collection>} list.
   *
   * @throws NotFoundException either entity does not exist
   * @throws FailedPreconditionException the attribute exists and is not a list
   */
  public VertexDoc linkEntities(Principal who, String fromId, String toId, Idempotency idem) {
    String actor = who.name();
    EntityId from = Validate.id("from_id", fromId);
    EntityId to = Validate.id("to_id", toId);
    return write(idem, VERTEX, tx -> {
      VertexDoc src = requireVertex(tx, from, "from_id");
      who.requireWrite(src.project(), "links");
      readable(who, requireVertex(tx, to, "to_id"), "to_id");
      String attr = "related_" + to.collection();
      Map<String, Object> doc = new LinkedHashMap<>(src.doc());
      Object current = doc.get(attr);
      List<Object> list;
      if (current == null) {
        list = new ArrayList<>();
      } else if (current instanceof List<?> l) {
        list = new ArrayList<>(l);
      } else {
        throw new FailedPreconditionException("LINK_ATTRIBUTE_NOT_A_LIST", "from_id: " + from + " has an attribute \""
            + attr + "\" that is not a list, so it cannot hold links");
      }
      if (list.contains(to.toString())) {
        return src;
      }
      list.add(to.toString());
      doc.put(attr, list);
      Validate.document("document", doc);
      return replace(tx, src, doc, actor, "LINKED");
    });
  }

  /**
   * Inserts into a custom vertex type; an equal existing document (same key or name) is returned.
   *
   * @throws NotFoundException no such type or project
   * @throws FailedPreconditionException a built-in or edge type
   * @throws AlreadyExistsException key or name taken by a different document
   */
  public VertexDoc insertVertex(Principal who, String collection, String key, String name, String project,
      Map<String, Object> doc, Idempotency idem) {
    String actor = who.name();
    Validate.typeName("collection", collection);
    String k = emptyToNull(key) == null ? null : Validate.key("key", key);
    String n = emptyToNull(name) == null ? null : Validate.name("name", name);
    String p = Validate.optionalProject("project", project);
    Validate.document("document", doc);
    return write(idem, VERTEX, tx -> {
      CollectionDef def = requireType(tx, collection, "collection");
      requireCustom(def, "collection", def.isEdge() ? "it is an edge type; use InsertEdge" : null);
      who.requireWrite(p, collection);
      requireProject(tx, p, "project");
      if (k != null) {
        Optional<VertexDoc> existing = tx.vertex(new EntityId(collection, k));
        if (existing.isPresent()) {
          VertexDoc e = existing.get();
          if (Objects.equals(e.name(), n) && e.project().equals(p) && e.doc().equals(doc)) {
            return e;
          }
          throw new AlreadyExistsException(e.id().toString(), "key: " + e.id()
              + " already exists with a different document");
        }
      }
      if (n != null && k == null) {
        return registerNamed(tx, collection, n, p, doc, actor);
      }
      Instant now = now();
      VertexDoc v = new VertexDoc(new EntityId(collection, k == null ? keys.next() : k), n, p, doc, now, now, actor);
      tx.insertVertex(v);
      return v;
    });
  }

  private static void requireCustom(CollectionDef def, String field, String otherProblem) {
    if (def.builtin()) {
      throw new FailedPreconditionException("BUILTIN_TYPE", field + ": \"" + def.name()
          + "\" is a built-in type; write it with its own RPC (RegisterDataset, LogRun, ...)");
    }
    if (otherProblem != null) {
      throw new FailedPreconditionException("WRONG_TYPE_KIND", field + ": \"" + def.name() + "\": " + otherProblem);
    }
  }

  /**
   * Inserts an edge into a custom edge type; an equal existing edge is returned.
   *
   * @throws NotFoundException no such type or vertex
   * @throws FailedPreconditionException built-in or vertex type, or vertices of types it does not connect
   * @throws AlreadyExistsException the edge exists with another document
   */
  public EdgeDoc insertEdge(Principal who, String collection, String fromId, String toId, Map<String, Object> doc,
      Idempotency idem) {
    String actor = who.name();
    Validate.typeName("collection", collection);
    EntityId from = Validate.id("from_id", fromId);
    EntityId to = Validate.id("to_id", toId);
    Validate.document("document", doc);
    return write(idem, EDGE, tx -> {
      CollectionDef def = requireType(tx, collection, "collection");
      requireCustom(def, "collection", def.isEdge() ? null : "it is a vertex type; use InsertVertex");
      if (!def.fromTypes().contains(from.collection())) {
        throw new FailedPreconditionException("EDGE_TYPE_MISMATCH", "from_id: edges of \"" + collection
            + "\" start from " + def.fromTypes() + ", not " + from.collection());
      }
      if (!def.toTypes().contains(to.collection())) {
        throw new FailedPreconditionException("EDGE_TYPE_MISMATCH", "to_id: edges of \"" + collection
            + "\" point to " + def.toTypes() + ", not " + to.collection());
      }
      VertexDoc fromDoc = requireVertex(tx, from, "from_id");
      who.requireWrite(fromDoc.project(), collection);
      readable(who, requireVertex(tx, to, "to_id"), "to_id");
      Optional<EdgeDoc> existing = tx.edgeBetween(collection, from, to);
      if (existing.isPresent()) {
        if (existing.get().doc().equals(doc)) {
          return existing.get();
        }
        throw new AlreadyExistsException(existing.get().id().toString(), "an edge of \"" + collection + "\" from "
            + from + " to " + to + " already exists (" + existing.get().id() + ") with a different document");
      }
      EdgeDoc e = new EdgeDoc(new EntityId(collection, keys.next()), from, to, doc, now(), actor);
      tx.insertEdge(e);
      return e;
    });
  }

  /** Adds a custom vertex type; an existing vertex type is returned. @throws AlreadyExistsException an edge type */
  public TypeInfo addVertexType(Principal who, String name, Idempotency idem) {
    Validate.typeName("name", name);
    who.requireServerAdmin("add types");
    return write(idem, typeCodec, tx -> {
      Optional<CollectionDef> existing = tx.collection(name);
      if (existing.isPresent()) {
        if (existing.get().isEdge()) {
          throw new AlreadyExistsException(name, "name: \"" + name + "\" is already an edge type");
        }
        return new TypeInfo(existing.get(), tx.count(name));
      }
      CollectionDef def = CollectionDef.vertex(name, false);
      tx.putCollection(def);
      return new TypeInfo(def, 0);
    });
  }

  /**
   * Adds a custom edge type; the same definition again is a no-op.
   *
   * @throws NotFoundException a from/to vertex type does not exist
   * @throws AlreadyExistsException the name exists with another definition
   */
  public TypeInfo addEdgeType(Principal who, String name, List<String> fromTypes, List<String> toTypes, Idempotency idem) {
    Validate.typeName("name", name);
    who.requireServerAdmin("add types");
    List<String> from = typeList("from_types", fromTypes);
    List<String> to = typeList("to_types", toTypes);
    return write(idem, typeCodec, tx -> {
      for (String t : from) {
        requireVertexType(tx, t, "from_types");
      }
      for (String t : to) {
        requireVertexType(tx, t, "to_types");
      }
      CollectionDef def = CollectionDef.edge(name, false, CollectionDef.Flow.FORWARD, from, to);
      Optional<CollectionDef> existing = tx.collection(name);
      if (existing.isPresent()) {
        if (existing.get().equals(def)) {
          return new TypeInfo(def, tx.count(name));
        }
        throw new AlreadyExistsException(name, "name: the type \"" + name + "\" already exists with another"
            + " definition");
      }
      tx.putCollection(def);
      return new TypeInfo(def, 0);
    });
  }

  private static List<String> typeList(String field, List<String> types) {
    if (types == null || types.isEmpty()) {
      throw new InvalidArgumentException(field, "must name at least one vertex type");
    }
    List<String> out = new ArrayList<>(new LinkedHashSet<>(types));
    for (int i = 0; i < out.size(); i++) {
      Validate.typeName(field + "[" + i + "]", out.get(i));
    }
    out.sort(null);
    return out;
  }

  /**
   * Removes a custom vertex type.
   *
   * @throws NotFoundException no such type
   * @throws FailedPreconditionException built-in, an edge type, documents present without purge, or referenced
   */
  public long removeVertexType(Principal who, String name, boolean purge, Idempotency idem) {
    Validate.typeName("name", name);
    who.requireServerAdmin("remove types");
    return write(idem, COUNT, tx -> {
      CollectionDef def = requireType(tx, name, "name");
      requireCustom(def, "name", def.isEdge() ? "it is an edge type; use RemoveEdgeType" : null);
      List<String> referencing = tx.collections().stream()
          .filter(c -> c.isEdge() && (c.fromTypes().contains(name) || c.toTypes().contains(name)))
          .map(CollectionDef::name).toList();
      if (!referencing.isEmpty()) {
        throw new FailedPreconditionException("TYPE_IN_USE", "name: edge types " + referencing + " connect \"" + name
            + "\"; remove them first");
      }
      return drop(tx, name, purge);
    });
  }

  /** Removes a custom edge type. Same errors as {@link #removeVertexType}, but never "referenced". */
  public long removeEdgeType(Principal who, String name, boolean purge, Idempotency idem) {
    Validate.typeName("name", name);
    who.requireServerAdmin("remove types");
    return write(idem, COUNT, tx -> {
      CollectionDef def = requireType(tx, name, "name");
      requireCustom(def, "name", def.isEdge() ? null : "it is a vertex type; use RemoveVertexType");
      return drop(tx, name, purge);
    });
  }

  private static long drop(WriteTx tx, String name, boolean purge) {
    long n = tx.count(name);
    if (n > 0 && !purge) {
      throw new FailedPreconditionException("TYPE_NOT_EMPTY", "name: \"" + name + "\" holds " + n
          + (n == 1 ? " document" : " documents") + "; pass purge=true to delete them with the type");
    }
    return tx.dropCollection(name);
  }

  /** @throws NotFoundException no such type */
  public TypeInfo getType(Principal who, String name) {
    Validate.typeName("name", name);
    return store.read(tx -> new TypeInfo(requireType(tx, name, "name"), tx.count(name)));
  }

  public List<TypeInfo> listTypes(Principal who) {
    return store.read(tx -> tx.collections().stream().filter(d -> !d.name().startsWith("_"))
        .map(d -> new TypeInfo(d, tx.count(d.name()))).toList());
  }

  // ---- lineage -----------------------------------------------------------------------------------

  /**
   * The subgraph reachable from an entity along the flow of data, from one snapshot.
   *
   * @throws InvalidArgumentException malformed id, or limits out of range
   * @throws NotFoundException the start entity does not exist
   */
  public Lineage lineage(Principal who, String startId, Direction direction, int maxDepth, int maxNodes,
      List<String> vertexTypes, List<String> edgeTypes) {
    return lineage(who, List.of(startId == null ? "" : startId), direction, maxDepth, maxNodes, vertexTypes,
        edgeTypes);
  }

  /** From several start entities (at most {@link #MAX_START}); optional vertex and edge type filters. */
  public Lineage lineage(Principal who, List<String> startIds, Direction direction, int maxDepth, int maxNodes,
      List<String> vertexTypes, List<String> edgeTypes) {
    if (startIds.isEmpty() || startIds.size() > MAX_START) {
      throw new InvalidArgumentException("start_ids", "must name 1 to " + MAX_START + " entities");
    }
    List<EntityId> starts = new ArrayList<>();
    for (int i = 0; i < startIds.size(); i++) {
      starts.add(Validate.id(startIds.size() == 1 ? "start_id" : "start_ids[" + i + "]", startIds.get(i)));
    }
    int depth = maxDepth == 0 ? DEFAULT_DEPTH : maxDepth;
    if (depth < 1 || depth > MAX_DEPTH) {
      throw new InvalidArgumentException("max_depth", "must be between 1 and " + MAX_DEPTH + " (got " + maxDepth
          + ")");
    }
    int nodes = maxNodes == 0 ? DEFAULT_NODES : maxNodes;
    if (nodes < 1 || nodes > MAX_NODES) {
      throw new InvalidArgumentException("max_nodes", "must be between 1 and " + MAX_NODES + " (got " + maxNodes
          + ")");
    }
    Set<String> vtypes = new HashSet<>();
    for (int i = 0; i < vertexTypes.size(); i++) {
      vtypes.add(Validate.typeName("vertex_types[" + i + "]", vertexTypes.get(i)));
    }
    Set<String> etypes = new HashSet<>();
    for (int i = 0; i < edgeTypes.size(); i++) {
      etypes.add(Validate.typeName("edge_types[" + i + "]", edgeTypes.get(i)));
    }
    Direction dir = direction == null ? Direction.BOTH : direction;
    return store.read(tx -> traverse(tx, who, starts, dir, depth, nodes, vtypes, etypes));
  }

  /** The ids of up to {@link #MAX_START} entities of a type matching a filter, to start a traversal from. */
  public List<String> startIds(Principal who, String collection, String filterText) {
    Validate.typeName("start_collection", collection);
    io.arangopipe.server.query.Expr filter = Analytics.filter("start_filter", filterText,
        io.arangopipe.server.query.Binder.Context.ENTITIES);
    List<VertexDoc> found = store.read(tx -> {
      requireVertexType(tx, collection, "start_collection");
      return tx.searchVertices(collection, List.of(), Analytics.visibleTo(who, filter),
          io.arangopipe.server.query.OrderSpec.BY_KEY, null, MAX_START + 1);
    });
    if (found.size() > MAX_START) {
      throw new InvalidArgumentException("start_filter", "matches more than " + MAX_START
          + " entities; narrow it down");
    }
    if (found.isEmpty()) {
      throw new NotFoundException(collection, "start_filter: no " + collection + " entity matches");
    }
    return found.stream().map(v -> v.id().toString()).toList();
  }

  private static Lineage traverse(ReadTx tx, Principal who, List<EntityId> starts, Direction dir, int maxDepth,
      int maxNodes, Set<String> vertexTypes, Set<String> edgeTypes) {
    List<VertexDoc> firsts = new ArrayList<>();
    for (EntityId start : starts) {
      requireVertexType(tx, start.collection(), "start_id");
      firsts.add(readable(who, tx.vertex(start).orElseThrow(() -> new NotFoundException(start.toString(),
          "start_id: " + start + " does not exist")), "start_id"));
    }
    // Entities the caller may not read are not entered: the traversal goes around them.
    Set<String> readable = who.readableProjects();
    Map<EntityId, Boolean> visibleCache = new HashMap<>();
    Map<String, CollectionDef> defs = new HashMap<>();
    for (CollectionDef d : tx.collections()) {
      defs.put(d.name(), d);
    }
    int edgeBudget = Math.min(200_000, maxNodes * 20);
    LinkedHashSet<EntityId> visited = new LinkedHashSet<>(starts);
    Map<EntityId, EdgeDoc> edges = new LinkedHashMap<>();
    boolean truncated = false;
    List<Direction> passes = dir == Direction.BOTH ? List.of(Direction.UPSTREAM, Direction.DOWNSTREAM) : List.of(dir);
    traversal:
    for (Direction pass : passes) {
      // The edge types this pass follows out of a vertex and into it, so the store reads only those.
      Map<Boolean, Set<String>> follow = new HashMap<>();
      for (boolean outbound : new boolean[] {true, false}) {
        Set<String> types = new HashSet<>();
        for (CollectionDef def : defs.values()) {
          boolean forward = def.flow() == CollectionDef.Flow.FORWARD;
          if (def.isEdge() && (edgeTypes.isEmpty() || edgeTypes.contains(def.name()))
              && (pass == Direction.DOWNSTREAM ? outbound == forward : outbound != forward)) {
            types.add(def.name());
          }
        }
        follow.put(outbound, types);
      }
      Set<EntityId> seen = new HashSet<>(starts);
      List<EntityId> frontier = List.copyOf(new LinkedHashSet<>(starts));
      for (int level = 1; level <= maxDepth && !frontier.isEmpty(); level++) {
        List<EntityId> next = new ArrayList<>();
        // The frontier is read in slices that start small and double, so that a level that reaches
        // max_nodes stops reading there instead of reading every edge of a wide frontier first.
        int slice = FIRST_SLICE;
        for (int from = 0; from < frontier.size(); from += slice, slice = Math.min(MAX_SLICE, slice * 2)) {
          if (visited.size() >= maxNodes) {
            // Full: nothing more can be entered, so the traversal ends here, cut.
            truncated = true;
            break traversal;
          }
          List<EntityId> part = frontier.subList(from, Math.min(frontier.size(), from + slice));
          for (boolean outbound : new boolean[] {true, false}) {
            // Every edge read leads to a candidate vertex, so a little more than the room left is
            // usually enough. When that many were read without filling up (many led to vertices
            // already entered), the slice is read again in full: entering a vertex twice is a no-op.
            int limit = Math.min(edgeBudget, Math.max(MIN_READ, 2 * (maxNodes - visited.size())));
            while (true) {
              List<EdgeDoc> found = tx.edgesOf(part, outbound, follow.get(outbound), limit);
              if (found.size() >= edgeBudget) {
                truncated = true;
              }
              for (EdgeDoc e : found) {
                EntityId other = outbound ? e.to() : e.from();
                if (!vertexTypes.isEmpty() && !vertexTypes.contains(other.collection())) {
                  continue;
                }
                if (readable != null && !visibleCache.computeIfAbsent(other,
                    id -> tx.vertex(id).map(v -> who.canRead(v.project())).orElse(false))) {
                  continue;
                }
                if (!visited.contains(other)) {
                  if (visited.size() >= maxNodes) {
                    truncated = true;
                    continue;
                  }
                  visited.add(other);
                }
                if (seen.add(other)) {
                  next.add(other);
                }
                edges.putIfAbsent(e.id(), e);
              }
              boolean cut = found.size() >= limit;
              if (cut && visited.size() >= maxNodes) {
                truncated = true;
              }
              if (!cut || limit >= edgeBudget || visited.size() >= maxNodes) {
                break;
              }
              limit = edgeBudget;
            }
          }
        }
        frontier = next;
      }
    }
    Map<EntityId, VertexDoc> docs = tx.vertices(visited);
    List<VertexDoc> nodeList = new ArrayList<>(firsts);
    Set<EntityId> startSet = new HashSet<>(starts);
    for (EntityId id : visited) {
      VertexDoc v = docs.get(id);
      if (v != null && !startSet.contains(id)) {
        nodeList.add(v);
      }
    }
    List<EdgeDoc> edgeList = edges.values().stream()
        .filter(e -> docs.containsKey(e.from()) && docs.containsKey(e.to())).toList();
    return new Lineage(nodeList, edgeList, truncated);
  }
}
