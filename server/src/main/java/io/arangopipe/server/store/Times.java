package io.arangopipe.server.store;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Times inside documents (a run's start_time, a serving measurement's time) are fixed-width UTC strings
 * with microseconds, {@code 2024-01-31T12:00:00.000000Z}, so that comparing the strings compares the
 * times, in every store.
 */
public final class Times {
  private static final DateTimeFormatter FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private Times() {}

  public static String format(Instant t) {
    return FORMAT.format(t);
  }

  /** The time in a document value, or null when it is not one. */
  public static Instant parse(Object value) {
    if (value instanceof String s && !s.isEmpty()) {
      try {
        return Instant.parse(s);
      } catch (RuntimeException e) {
        return null;
      }
    }
    return null;
  }
}
