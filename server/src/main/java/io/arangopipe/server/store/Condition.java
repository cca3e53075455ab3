package io.arangopipe.server.store;

/**
 * An equality test on a vertex field. {@code value} is a String, Long, Double, Boolean or {@code null}
 * (matching an explicit JSON null). Numbers compare numerically (3 equals 3.0); other types never
 * equal each other.
 */
public record Condition(Field field, Object value) {
  public Condition {
    if (value != null
        && !(value instanceof String
            || value instanceof Long
            || value instanceof Double
            || value instanceof Boolean)) {
      throw new IllegalArgumentException("unsupported value type " + value.getClass());
    }
  }
}
