package io.arangopipe.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimesTest {
  private static final DateTimeFormatter REFERENCE =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  @Test
  void formatAndParseAgreeWithJavaTime() {
    Random r = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      // Years -100 to 10100, so both the hand-written path and the fallback are exercised.
      long sec = -65_000_000_000L + (long) (r.nextDouble() * 386_000_000_000L);
      Instant t = Instant.ofEpochSecond(sec, r.nextInt(1_000_000) * 1000L);
      String s = Times.format(t);
      assertThat(s).isEqualTo(REFERENCE.format(t));
      Instant expected;
      try {
        expected = Instant.parse(s);
      } catch (RuntimeException e) {
        expected = null;
      }
      assertThat(Times.parse(s)).isEqualTo(expected);
    }
    for (String edge : new String[] {"1970-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
        "0000-01-01T00:00:00.000000Z", "2024-02-29T12:00:00.000000Z"}) {
      assertThat(Times.parse(edge)).isEqualTo(Instant.parse(edge));
      assertThat(Times.format(Instant.parse(edge))).isEqualTo(edge);
    }
  }

  @Test
  void whatIsNotAnOrdinaryTimeIsLeftToInstantParse() {
    for (String s : new String[] {"2023-02-29T12:00:00.000000Z", "2024-01-31T24:00:00.000000Z",
        "2024-13-01T00:00:00.000000Z", "2024-01-31T12:00:60.000000Z", "2024-01-31T12:00:00.00000xZ",
        "2024-01-31T12:00:00Z", "2024-01-31T12:00:00.123Z", "not a time", "+2024-01-31T12:00:00.000000Z"}) {
      Instant expected;
      try {
        expected = Instant.parse(s);
      } catch (RuntimeException e) {
        expected = null;
      }
      assertThat(Times.parse(s)).as(s).isEqualTo(expected);
    }
    assertThat(Times.parse(42L)).isNull();
    assertThat(Times.parse("")).isNull();
  }
}
