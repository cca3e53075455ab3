package io.arangopipe.server.query;

import java.time.Instant;

/** A literal value in a filter. */
public sealed interface Literal {
  record Str(String value) implements Literal {}

  /** Numbers are compared as doubles; integers keep their exact value up to 2^53. */
  record Num(double value) implements Literal {}

  record Bool(boolean value) implements Literal {}

  record Null() implements Literal {}

  /** {@code TIMESTAMP '2024-01-31T12:00:00Z'} or {@code TIMESTAMP '2024-01-31'} (midnight UTC). */
  record Time(Instant value) implements Literal {}
}
