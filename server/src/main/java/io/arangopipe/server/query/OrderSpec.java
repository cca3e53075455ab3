package io.arangopipe.server.query;

/**
 * Sort order: by a field ({@code null} = by key), ascending or descending; rows without the field come
 * last either way, and the key breaks ties.
 */
public record OrderSpec(Ref.Bound field, boolean descending) {
  public static final OrderSpec BY_KEY = new OrderSpec(null, false);
}
