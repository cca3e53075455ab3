package io.arangopipe.server.query;

import java.util.List;
import java.util.Objects;

/** A field reference: as written ({@link Raw}), or resolved for a query ({@link Bound}). */
public sealed interface Ref {

  /** The dotted path as written; quoted segments arrive unquoted. */
  record Raw(List<String> segments) implements Ref {
    public Raw {
      segments = List.copyOf(segments);
    }
  }

  /** Which entity of a query row a field belongs to. */
  enum Source {
    /** The entity itself, in single-collection queries. */
    SELF,
    RUN,
    DATASET,
    FEATURESET,
    MODEL,
    MODELPARAMS,
    DEVPERF
  }

  /** System fields every vertex has. */
  enum SystemField {
    ID,
    KEY,
    NAME,
    PROJECT,
    CREATE_TIME,
    UPDATE_TIME,
    CREATOR
  }

  /** A resolved reference: a system field, or (when {@code system} is null) a path into the document. */
  record Bound(Source source, SystemField system, List<String> path) implements Ref {
    public Bound {
      Objects.requireNonNull(source);
      path = List.copyOf(path);
      if ((system == null) == path.isEmpty()) {
        throw new IllegalArgumentException("a bound reference is a system field or a document path");
      }
    }

    public static Bound system(Source source, SystemField f) {
      return new Bound(source, f, List.of());
    }

    public static Bound doc(Source source, List<String> path) {
      return new Bound(source, null, path);
    }

    public boolean isSystem() {
      return system != null;
    }
  }
}
