package io.arangopipe.server.core;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.CollectionDef.Flow;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The built-in graph: the seed library's collection names and edge directions, so that a database the
 * arangopipe Python library wrote can be served, and the reverse. Each edge also records which way data
 * flows through it, for upstream/downstream lineage.
 */
public final class Schema {
  public static final String PROJECT = "project";
  public static final String MODELS = "models";
  public static final String DATASETS = "datasets";
  public static final String FEATURESETS = "featuresets";
  public static final String MODELPARAMS = "modelparams";
  public static final String RUN = "run";
  public static final String DEVPERF = "devperf";
  public static final String SERVINGPERF = "servingperf";
  public static final String DEPLOYMENT = "deployment";

  public static final String PROJECT_MODELS = "project_models";
  public static final String RUN_MODELS = "run_models";
  public static final String RUN_MODELPARAMS = "run_modelparams";
  public static final String RUN_DATASETS = "run_datasets";
  public static final String RUN_DEVPERF = "run_devperf";
  public static final String RUN_FEATURESETS = "run_featuresets";
  public static final String DEPLOYMENT_SERVINGPERF = "deployment_servingperf";
  public static final String DEPLOYMENT_MODEL = "deployment_model";
  public static final String DEPLOYMENT_MODELPARAMS = "deployment_modelparams";
  public static final String DEPLOYMENT_FEATURESET = "deployment_featureset";
  public static final String FEATURESET_DATASET = "featureset_dataset";

  public static final List<CollectionDef> BUILTIN = List.of(
      CollectionDef.vertex(PROJECT, true),
      CollectionDef.vertex(MODELS, true),
      CollectionDef.vertex(DATASETS, true),
      CollectionDef.vertex(FEATURESETS, true),
      CollectionDef.vertex(MODELPARAMS, true),
      CollectionDef.vertex(RUN, true),
      CollectionDef.vertex(DEVPERF, true),
      CollectionDef.vertex(SERVINGPERF, true),
      CollectionDef.vertex(DEPLOYMENT, true),
      // project contains its models: project -> models.
      edge(PROJECT_MODELS, Flow.FORWARD, PROJECT, MODELS),
      // The seed stores models -> run; the run produces the model, so data flows run -> model.
      edge(RUN_MODELS, Flow.REVERSE, MODELS, RUN),
      // Parameters feed the run.
      edge(RUN_MODELPARAMS, Flow.REVERSE, RUN, MODELPARAMS),
      // Datasets and featuresets feed the run.
      edge(RUN_DATASETS, Flow.REVERSE, RUN, DATASETS),
      edge(RUN_FEATURESETS, Flow.REVERSE, RUN, FEATURESETS),
      // The run produces its dev performance.
      edge(RUN_DEVPERF, Flow.FORWARD, RUN, DEVPERF),
      // A deployment produces serving performance.
      edge(DEPLOYMENT_SERVINGPERF, Flow.FORWARD, DEPLOYMENT, SERVINGPERF),
      // Model, params and featureset feed the deployment.
      edge(DEPLOYMENT_MODEL, Flow.REVERSE, DEPLOYMENT, MODELS),
      edge(DEPLOYMENT_MODELPARAMS, Flow.REVERSE, DEPLOYMENT, MODELPARAMS),
      edge(DEPLOYMENT_FEATURESET, Flow.REVERSE, DEPLOYMENT, FEATURESETS),
      // A featureset is derived from its dataset.
      edge(FEATURESET_DATASET, Flow.REVERSE, FEATURESETS, DATASETS));

  public static final Set<String> BUILTIN_NAMES =
      BUILTIN.stream().map(CollectionDef::name).collect(Collectors.toUnmodifiableSet());

  private Schema() {}

  private static CollectionDef edge(String name, Flow flow, String from, String to) {
    return CollectionDef.edge(name, true, flow, List.of(from), List.of(to));
  }
}
