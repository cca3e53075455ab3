package io.arangopipe.server.query;

import java.util.List;

/** Grouping and aggregate functions over runs or one collection's entities. */
public final class Aggregation {
  private Aggregation() {}

  /** Aggregate functions; all but COUNT and COUNT_DISTINCT use numeric values only. */
  public enum Function {
    COUNT,
    COUNT_DISTINCT,
    MIN,
    MAX,
    MEAN,
    SUM,
    STDDEV
  }

  /** Truncation of a time to a bucket. */
  public enum Bucket {
    NONE,
    DAY,
    MONTH,
    YEAR
  }

  /** One group key: a field (optionally bucketed by time), or a condition (true/false groups). */
  public record GroupKey(Ref.Bound field, Bucket bucket, Expr condition) {}

  /** One aggregate column; {@code field} is null for COUNT. */
  public record Aggregate(Function function, Ref.Bound field) {}

  /**
   * The query.
   *
   * @param collection the collection for entity queries; null for run queries
   * @param project only this project ("" = every project)
   * @param filter a bound filter, or null
   * @param groupBy group keys (empty = one group of everything)
   * @param aggregates the columns to compute
   * @param orderByAggregate order groups by this aggregate's index (-1 = by group keys)
   * @param descending reverse the order
   * @param limit at most this many groups
   */
  public record Query(String collection, String project, Expr filter, List<GroupKey> groupBy,
      List<Aggregate> aggregates, int orderByAggregate, boolean descending, int limit) {
    public Query {
      groupBy = List.copyOf(groupBy);
      aggregates = List.copyOf(aggregates);
    }
  }

  /** One group: its key values and aggregate values (each a Long, Double, String, Boolean or null). */
  public record Row(List<Object> keys, List<Object> values) {}
}
