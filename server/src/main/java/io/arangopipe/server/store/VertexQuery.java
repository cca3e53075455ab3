package io.arangopipe.server.store;

import java.util.List;
import java.util.Objects;

/**
 * A page of one collection's vertices: all conditions must hold, ordered by {@code order} ascending
 * (then by key), starting strictly after {@code after} (the order value of the previous page's last
 * row; for NAME order, {@code afterKey} breaks ties), at most {@code limit} rows.
 */
public record VertexQuery(
    String collection,
    List<Condition> conditions,
    Order order,
    String after,
    String afterKey,
    int limit) {

  public enum Order {
    KEY,
    NAME
  }

  public VertexQuery {
    Objects.requireNonNull(collection, "collection");
    conditions = List.copyOf(conditions);
    Objects.requireNonNull(order, "order");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive");
    }
  }
}
