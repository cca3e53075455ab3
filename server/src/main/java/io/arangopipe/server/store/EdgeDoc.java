package io.arangopipe.server.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/** A stored edge. At most one edge of a collection joins the same two vertices. */
public record EdgeDoc(
    EntityId id, EntityId from, EntityId to, Map<String, Object> doc, Instant createTime, String creator) {

  public EdgeDoc {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(doc, "doc");
    Objects.requireNonNull(createTime, "createTime");
    Objects.requireNonNull(creator, "creator");
  }
}
