package io.arangopipe.client;

import io.arangopipe.v1.Deployment;
import io.arangopipe.v1.Entity;
import io.arangopipe.v1.ListEntitiesRequest;
import io.arangopipe.v1.LogRunRequest;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** A little pipeline to deploy, and helpers to inspect what the server stored. */
final class Fixtures {
  private Fixtures() {}

  /** Registers dataset, featureset, model and a run carrying the deployment tag, then the deployment. */
  static Deployment deploy(ArangopipeClient client, String tag) {
    client.createProject("housing", Map.of("owner", "ds-team"));
    Entity ds = client.registerDataset("housing-" + tag, "housing", Map.of("source", "s3://bucket/housing.csv",
        "rows", 20640));
    Entity fs = client.registerFeatureset("housing-log-" + tag, ds.getId(), Map.of("transform", "log"));
    Entity model = client.registerModel("lasso-" + tag, "housing", Map.of("type", "LASSO"));
    client.logRun(LogRunRequest.newBuilder().setRunId("run-" + tag).setProject("housing").setTag("nightly")
        .setDeploymentTag(tag).setModelId(model.getId()).setDatasetId(ds.getId()).setFeaturesetId(fs.getId())
        .setModelParams(Structs.toStruct(Map.of("alpha", 0.001)))
        .setDevPerf(Structs.toStruct(Map.of("rmse", 0.31))).build());
    return client.registerDeployment(tag);
  }

  /** How many serving-performance documents the server holds. */
  static long servingPerfCount(ArangopipeClient client) {
    return client.getType("servingperf").getDocumentCount();
  }

  /** Every serving-performance document. */
  static List<Entity> servingPerf(ArangopipeClient client) {
    return client.listAllEntities(ListEntitiesRequest.newBuilder().setCollection("servingperf").setPageSize(1000)
        .build()).collect(Collectors.toList());
  }

  /** Waits (bounded) until the condition holds; false if it never did. */
  static boolean eventually(long timeoutMillis, BooleanSupplier condition) {
    long end = System.nanoTime() + timeoutMillis * 1_000_000;
    while (System.nanoTime() - end < 0) {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return condition.getAsBoolean();
  }
}
