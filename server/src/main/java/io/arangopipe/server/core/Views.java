package io.arangopipe.server.core;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.VertexDoc;
import java.util.List;

/** The results core operations return. */
public final class Views {
  private Views() {}

  /** A run with what went in and came out. Absent links are {@code null}. */
  public record RunView(
      VertexDoc run,
      VertexDoc modelParams,
      VertexDoc devPerf,
      EntityId model,
      EntityId dataset,
      EntityId featureset) {}

  /** A deployment with what it serves. Absent links are {@code null}. */
  public record DeploymentView(VertexDoc deployment, EntityId model, EntityId modelParams, EntityId featureset) {}

  /** A vertex or an edge: exactly one is set. */
  public record VertexOrEdge(VertexDoc vertex, EdgeDoc edge) {}

  /** One page of a list, and the token of the next ({@code ""} on the last page). */
  public record Page<T>(List<T> items, String nextPageToken) {}

  /** A lineage subgraph. */
  public record Lineage(List<VertexDoc> nodes, List<EdgeDoc> edges, boolean truncated) {}

  /** A type with its document count. */
  public record TypeInfo(CollectionDef def, long documentCount) {}

  /** A write's idempotency key: the request id, and what the request was. */
  public record Idempotency(String requestId, String operation, String fingerprint) {}

  /** Traversal direction, in the sense of data flow (see {@link io.arangopipe.server.store.CollectionDef.Flow}). */
  public enum Direction {
    UPSTREAM,
    DOWNSTREAM,
    BOTH
  }

  /** A run's state. */
  public enum RunStatus {
    RUNNING,
    COMPLETED,
    FAILED,
    CANCELLED
  }

  /** A deployment's state. */
  public enum DeploymentStatus {
    SCHEDULED,
    ACTIVE,
    ARCHIVED
  }
}
