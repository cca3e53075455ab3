package io.arangopipe.server.store;

import java.util.Objects;

/** The id of a vertex or edge: {@code collection/key}, ArangoDB's {@code _id} form. */
public record EntityId(String collection, String key) implements Comparable<EntityId> {

  public EntityId {
    Objects.requireNonNull(collection, "collection");
    Objects.requireNonNull(key, "key");
  }

  /** Splits {@code collection/key} without validating either part (see core's validators for that). */
  public static EntityId of(String id) {
    int slash = id.indexOf('/');
    if (slash <= 0 || slash == id.length() - 1) {
      throw new IllegalArgumentException("not an id: " + id);
    }
    return new EntityId(id.substring(0, slash), id.substring(slash + 1));
  }

  @Override
  public String toString() {
    return collection + "/" + key;
  }

  @Override
  public int compareTo(EntityId o) {
    return toString().compareTo(o.toString());
  }
}
