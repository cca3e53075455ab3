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

  /** Years 0000-9999: the fixed-width form; written by hand (DateTimeFormatter was a hot spot of LogRun). */
  public static String format(Instant t) {
    long sec = t.getEpochSecond();
    if (sec < MIN_FAST || sec > MAX_FAST) {
      return FORMAT.format(t);
    }
    java.time.LocalDateTime d = java.time.LocalDateTime.ofEpochSecond(sec, 0, ZoneOffset.UTC);
    char[] c = new char[27];
    digits(c, 0, d.getYear(), 4);
    c[4] = '-';
    digits(c, 5, d.getMonthValue(), 2);
    c[7] = '-';
    digits(c, 8, d.getDayOfMonth(), 2);
    c[10] = 'T';
    digits(c, 11, d.getHour(), 2);
    c[13] = ':';
    digits(c, 14, d.getMinute(), 2);
    c[16] = ':';
    digits(c, 17, d.getSecond(), 2);
    c[19] = '.';
    digits(c, 20, t.getNano() / 1000, 6);
    c[26] = 'Z';
    return new String(c);
  }

  /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
  private static final long MIN_FAST = -62167219200L;
  private static final long MAX_FAST = 253402300799L;

  private static void digits(char[] c, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** The time in a document value, or null when it is not one. */
  public static Instant parse(Object value) {
    if (value instanceof String s && !s.isEmpty()) {
      Instant fast = parseFixed(s);
      if (fast != null) {
        return fast;
      }
      try {
        return Instant.parse(s);
      } catch (RuntimeException e) {
        return null;
      }
    }
    return null;
  }

  /**
   * The fixed-width form this class writes, read by hand; null for anything else (including values that
   * are not ordinary times, such as hour 24 or a leap second), which {@link Instant#parse} then decides.
   */
  private static Instant parseFixed(String s) {
    if (s.length() != 27 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T'
        || s.charAt(13) != ':' || s.charAt(16) != ':' || s.charAt(19) != '.' || s.charAt(26) != 'Z') {
      return null;
    }
    int year = number(s, 0, 4);
    int month = number(s, 5, 2);
    int day = number(s, 8, 2);
    int hour = number(s, 11, 2);
    int minute = number(s, 14, 2);
    int second = number(s, 17, 2);
    int micros = number(s, 20, 6);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59 || micros < 0) {
      return null;
    }
    try {
      return java.time.LocalDateTime.of(year, month, day, hour, minute, second, micros * 1000)
          .toInstant(ZoneOffset.UTC);
    } catch (java.time.DateTimeException e) {
      return null; // e.g. February 30th: let Instant.parse refuse it
    }
  }

  /** The decimal digits at [at, at + width), or -1 when one is not a digit. */
  private static int number(String s, int at, int width) {
    int n = 0;
    for (int i = at; i < at + width; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      n = n * 10 + (ch - '0');
    }
    return n;
  }
}
