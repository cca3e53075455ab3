package io.arangopipe.server.store;

/**
 * Reads and writes inside one atomic transaction: either every write of the unit of work commits, or
 * none does. Reads see the transaction's own writes.
 */
public interface WriteTx extends ReadTx {

  /**
   * Inserts a vertex.
   *
   * @throws AlreadyExistsException the key, or the name within (collection, project), is taken
   * @throws NotFoundException the collection does not exist
   */
  void insertVertex(VertexDoc vertex);

  /**
   * Replaces the document and update time of an existing vertex (system fields other than the update
   * time do not change).
   *
   * @throws NotFoundException no vertex has that id
   */
  void replaceVertex(VertexDoc vertex);

  /**
   * Inserts an edge.
   *
   * @throws AlreadyExistsException the key is taken, or the collection already joins the two vertices
   * @throws NotFoundException the collection does not exist
   */
  void insertEdge(EdgeDoc edge);

  /**
   * Inserts vertices, all or none: the same checks as {@link #insertVertex} for each in order, and the
   * first one's exception when one fails, with none of them inserted. Stores may write them together.
   *
   * @throws AlreadyExistsException a key, or a name within (collection, project), is taken
   * @throws NotFoundException a collection does not exist
   */
  default void insertVertices(java.util.List<VertexDoc> vertices) {
    for (VertexDoc v : vertices) {
      insertVertex(v);
    }
  }

  /**
   * Inserts edges, all or none: the same checks as {@link #insertEdge} for each in order, and the first
   * one's exception when one fails, with none of them inserted. Stores may write them together.
   *
   * @throws AlreadyExistsException a key is taken, or a collection already joins two of the vertices
   * @throws NotFoundException a collection does not exist
   */
  default void insertEdges(java.util.List<EdgeDoc> edges) {
    for (EdgeDoc e : edges) {
      insertEdge(e);
    }
  }

  /** Creates or replaces a collection definition. */
  void putCollection(CollectionDef def);

  /**
   * Deletes a collection with every document in it (for a vertex collection, its vertices; edges that
   * touch them are the caller's business).
   *
   * @return how many documents were deleted
   */
  long dropCollection(String name);

  /** Records a change to an entity (the sequence number of {@code record} is ignored; the store assigns one). */
  void appendHistory(HistoryRecord record);

  /** Records an idempotent write's request id in this transaction. */
  void putRequest(RequestRecord record);
}
