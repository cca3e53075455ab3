package io.arangopipe.server.store;

import java.util.List;

/** A field of a vertex that a query can test: a system column, or a path into the document. */
public sealed interface Field {

  /** The vertex's key. */
  record Key() implements Field {}

  /** The vertex's name. */
  record Name() implements Field {}

  /** The vertex's project. */
  record Project() implements Field {}

  /** An attribute path into the document; each element is one attribute name. */
  record Doc(List<String> path) implements Field {
    public Doc {
      path = List.copyOf(path);
      if (path.isEmpty()) {
        throw new IllegalArgumentException("empty path");
      }
    }
  }
}
