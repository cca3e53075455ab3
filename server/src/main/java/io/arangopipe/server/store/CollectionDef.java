package io.arangopipe.server.store;

import java.util.List;
import java.util.Objects;

/**
 * A vertex or edge collection of the graph.
 *
 * @param name the collection's name
 * @param kind vertex or edge
 * @param builtin part of every Arangopipe graph; cannot be removed
 * @param flow for edges: whether data flows along the stored direction (FORWARD) or against it
 * @param fromTypes for edges: the vertex collections edges may start from
 * @param toTypes for edges: the vertex collections edges may point to
 */
public record CollectionDef(
    String name, Kind kind, boolean builtin, Flow flow, List<String> fromTypes, List<String> toTypes) {

  public enum Kind {
    VERTEX,
    EDGE
  }

  /** Which way data flows through an edge, for upstream/downstream traversals. */
  public enum Flow {
    /** Data flows from the edge's from-vertex to its to-vertex. */
    FORWARD,
    /** Data flows from the edge's to-vertex to its from-vertex. */
    REVERSE
  }

  public CollectionDef {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(flow, "flow");
    fromTypes = List.copyOf(fromTypes);
    toTypes = List.copyOf(toTypes);
  }

  public static CollectionDef vertex(String name, boolean builtin) {
    return new CollectionDef(name, Kind.VERTEX, builtin, Flow.FORWARD, List.of(), List.of());
  }

  public static CollectionDef edge(
      String name, boolean builtin, Flow flow, List<String> fromTypes, List<String> toTypes) {
    return new CollectionDef(name, Kind.EDGE, builtin, flow, fromTypes, toTypes);
  }

  public boolean isEdge() {
    return kind == Kind.EDGE;
  }
}
