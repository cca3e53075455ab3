package io.arangopipe.server.store;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads inside one consistent snapshot. Every method may throw {@link UnavailableException} when the
 * database cannot answer; none throws for absent data (absence is an empty result).
 */
public interface ReadTx {

  /** The collection's definition, if it exists. */
  Optional<CollectionDef> collection(String name);

  /** Every collection, built-in first, then by name. */
  List<CollectionDef> collections();

  /** How many documents the collection holds (0 if it does not exist). */
  long count(String collection);

  /**
   * The definition of the type {@code name}, which must be of {@code kind}: the check every store makes
   * before it writes a document of that type.
   *
   * @throws NotFoundException no type of that kind has the name
   */
  default CollectionDef requireType(String name, CollectionDef.Kind kind) {
    Optional<CollectionDef> def = collection(name);
    if (def.isEmpty() || def.get().kind() != kind) {
      throw new NotFoundException(name, "no " + kind.name().toLowerCase() + " type named \"" + name + "\"");
    }
    return def.get();
  }

  /** The vertex with this id, if it exists. */
  Optional<VertexDoc> vertex(EntityId id);

  /**
   * The project of the vertex with this id ("" when it has none), if the vertex exists: {@link #vertex}
   * without reading its document, for existence and permission checks on hot paths.
   */
  default Optional<String> projectOf(EntityId id) {
    return vertex(id).map(VertexDoc::project);
  }

  /**
   * {@link #projectOf} for several vertices at once, in one query where the store can: the project of each
   * id that exists; ids that do not exist are absent from the answer.
   */
  default java.util.Map<EntityId, String> projectsOf(java.util.Collection<EntityId> ids) {
    java.util.Map<EntityId, String> out = new java.util.HashMap<>();
    for (EntityId id : ids) {
      projectOf(id).ifPresent(p -> out.put(id, p));
    }
    return out;
  }

  /** The key of the vertex of {@code collection} with this name in {@code project}, if there is one. */
  default Optional<String> keyOfNamed(String collection, String name, String project) {
    return findVertices(new VertexQuery(collection, List.of(new Condition(new Field.Name(), name),
        new Condition(new Field.Project(), project)), VertexQuery.Order.KEY, null, null, 1))
        .stream().map(v -> v.id().key()).findFirst();
  }

  /** The vertices among these ids that exist, keyed by id. */
  Map<EntityId, VertexDoc> vertices(Collection<EntityId> ids);

  /** The edge with this id, if it exists. */
  Optional<EdgeDoc> edge(EntityId id);

  /** The edge of this collection from one vertex to another, if it exists. */
  Optional<EdgeDoc> edgeBetween(String collection, EntityId from, EntityId to);

  /** A page of vertices matching the query: the simple form of {@link #searchVertices}. */
  default List<VertexDoc> findVertices(VertexQuery query) {
    boolean byName = query.order() == VertexQuery.Order.NAME;
    io.arangopipe.server.query.Ref.Bound name = io.arangopipe.server.query.Ref.Bound.system(
        io.arangopipe.server.query.Ref.Source.SELF, io.arangopipe.server.query.Ref.SystemField.NAME);
    io.arangopipe.server.query.Cursor after = query.after() == null ? null
        : byName ? new io.arangopipe.server.query.Cursor(query.after(),
            query.afterKey() == null ? "" : query.afterKey())
        : new io.arangopipe.server.query.Cursor(null, query.after());
    return searchVertices(query.collection(), query.conditions(),
        byName ? new io.arangopipe.server.query.Expr.Exists(name) : null,
        byName ? new io.arangopipe.server.query.OrderSpec(name, false) : io.arangopipe.server.query.OrderSpec.BY_KEY,
        after, query.limit());
  }

  /**
   * The edges (of every collection) that start at ({@code outbound}) or end at (otherwise) one of the
   * vertices, at most {@code limit} of them.
   */
  default List<EdgeDoc> edgesOf(Collection<EntityId> vertexIds, boolean outbound, int limit) {
    return edgesOf(vertexIds, outbound, null, limit);
  }

  /**
   * The same, only of the given edge collections ({@code null}: every collection; empty: none).
   */
  List<EdgeDoc> edgesOf(Collection<EntityId> vertexIds, boolean outbound, Set<String> collections, int limit);

  /**
   * A page of one collection's vertices: the conditions and the (bound, entity-context) filter hold,
   * ordered by {@code order}, strictly after {@code after} (null = from the start).
   */
  List<VertexDoc> searchVertices(String collection, List<Condition> conditions,
      io.arangopipe.server.query.Expr filter, io.arangopipe.server.query.OrderSpec order,
      io.arangopipe.server.query.Cursor after, int limit);

  /** A page of runs of a project ("" = all) joined with their linked entities; same rules as above. */
  List<io.arangopipe.server.query.RunRow> searchRuns(String project, io.arangopipe.server.query.Expr filter,
      io.arangopipe.server.query.OrderSpec order, io.arangopipe.server.query.Cursor after, int limit);

  /** Groups and aggregates. */
  List<io.arangopipe.server.query.Aggregation.Row> aggregate(io.arangopipe.server.query.Aggregation.Query query);

  /** Changes recorded for an entity, oldest first, with sequence numbers above {@code afterSeq}. */
  List<HistoryRecord> history(EntityId id, long afterSeq, int limit);

  /** The record of an idempotent write with this request id, if one committed. */
  Optional<RequestRecord> request(String requestId);

  /** A page of one edge collection's edges ordered by key, strictly after afterKey ("" = from the start). */
  List<EdgeDoc> scanEdges(String collection, String afterKey, int limit);

  /**
   * Every entity's change records in sequence order, with sequence numbers above afterSeq. Sequence
   * numbers are positive and grow with each appended record, so 0 starts from the beginning.
   */
  List<HistoryRecord> scanHistory(long afterSeq, int limit);

  /** A page of idempotent-write records ordered by request id, strictly after afterId ("" = from the start). */
  List<RequestRecord> scanRequests(String afterId, int limit);
}
