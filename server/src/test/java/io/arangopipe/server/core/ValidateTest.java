package io.arangopipe.server.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arangopipe.server.store.InvalidArgumentException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ValidateTest {

  @Test
  void attributePathsSplitOnDotsAndKeepQuotedSegmentsWhole() {
    assertThat(Validate.attributePath("a", "rmse")).containsExactly("rmse");
    assertThat(Validate.attributePath("a", "tuning.cv.folds")).containsExactly("tuning", "cv", "folds");
    assertThat(Validate.attributePath("a", "\"fixed acidity\".mean")).containsExactly("fixed acidity", "mean");
    assertThat(Validate.attributePath("a", "stats.\"a.b\"")).containsExactly("stats", "a.b");
  }

  @Test
  void malformedPathsNameTheFieldAndThePosition() {
    for (String bad : List.of("", "a.", ".a", "a..b", "\"open", "a\"b", "x.\"\"", "a\\b", "a\u0001b",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q")) {
      assertThatThrownBy(() -> Validate.attributePath("attribute", bad))
          .as(bad).isInstanceOf(InvalidArgumentException.class)
          .satisfies(e -> assertThat(((InvalidArgumentException) e).field()).isEqualTo("attribute"));
    }
    assertThatThrownBy(() -> Validate.attributePath("attribute", "a..b")).hasMessageContaining("position 2");
  }

  @Test
  void keysFollowArangoDbRules() {
    assertThat(Validate.key("k", "run-2024_01.a@b(c)+,=;$!*'%:")).isNotNull();
    for (String bad : List.of("", "a/b", "a b", "é", "x".repeat(255))) {
      assertThatThrownBy(() -> Validate.key("run_id", bad)).as(bad).isInstanceOf(InvalidArgumentException.class);
    }
  }

  @Test
  void idsNeedAValidTypeAndKey() {
    assertThat(Validate.id("id", "datasets/abc").collection()).isEqualTo("datasets");
    for (String bad : List.of("datasets", "/abc", "datasets/", "1bad/abc", "data sets/abc", "datasets/a/b")) {
      assertThatThrownBy(() -> Validate.id("id", bad)).as(bad).isInstanceOf(InvalidArgumentException.class);
    }
    assertThatThrownBy(() -> Validate.idOf("model_id", "datasets/abc", "models"))
        .hasMessageStartingWith("model_id: must be an id in models");
  }

  @Test
  void requestIdsArePrintableAscii() {
    assertThat(Validate.requestId("request_id", "")).isNull();
    assertThat(Validate.requestId("request_id", "a-1:b")).isEqualTo("a-1:b");
    assertThatThrownBy(() -> Validate.requestId("request_id", "a b")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> Validate.requestId("request_id", "x".repeat(129)))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void generatedKeysAreValidUniqueAndIncreasingEvenWithinOneMillisecond() {
    Keys keys = new Keys(Clock.fixed(Instant.parse("2026-11-28T00:00:00Z"), ZoneOffset.UTC));
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      made.add(keys.next());
    }
    Set<String> unique = new HashSet<>(made);
    assertThat(unique).hasSize(made.size());
    assertThat(made).isSorted();
    assertThat(made).allMatch(k -> Validate.KEY.matcher(k).matches() && k.length() == 26);
    Keys later = new Keys(Clock.fixed(Instant.parse("2026-11-28T00:00:01Z"), ZoneOffset.UTC));
    assertThat(later.next()).isGreaterThan(made.get(made.size() - 1));
  }

  @Test
  void documentsUpToTheSizeLimitPassAndLargerOnesNameTheFieldAndTheSize() {
    java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
    doc.put("blob", "");
    int overhead = io.arangopipe.server.store.Json.write(doc).length(); // {"blob":""}
    doc.put("blob", "a".repeat(Validate.MAX_DOCUMENT_BYTES - overhead));
    assertThat(Validate.document("metrics", doc)).isSameAs(doc);
    doc.put("blob", "a".repeat(Validate.MAX_DOCUMENT_BYTES - overhead + 1));
    assertThatThrownBy(() -> Validate.document("metrics", doc)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("metrics").hasMessageContaining("at most 1048576 bytes as JSON (got 1048577)");
    // Two-byte characters count as two bytes; escapes as their escaped length.
    doc.put("blob", "é".repeat((Validate.MAX_DOCUMENT_BYTES - overhead) / 2 + 1));
    assertThatThrownBy(() -> Validate.document("metrics", doc)).isInstanceOf(InvalidArgumentException.class);
    doc.put("blob", "\u0001".repeat((Validate.MAX_DOCUMENT_BYTES - overhead) / 6 + 1));
    assertThatThrownBy(() -> Validate.document("metrics", doc)).isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void theSizeBoundIsNeverBelowTheEncodedSize() {
    java.util.Random random = new java.util.Random(20261128);
    for (int i = 0; i < 5_000; i++) {
      Object v = randomValue(random, 0);
      long exact = io.arangopipe.server.store.Json.write(v).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertThat(Validate.depthAndSizeBound("d", v, 1)).as("%s", v).isGreaterThanOrEqualTo(exact);
    }
  }

  private static final String[] NASTY = {"", "\"", "\\", "\u0000", "\u001f", "\n", "é", "✓", "\ud83d\ude00",
      "\ud83d", "</script>", "\u2028", "a"};

  private static Object randomValue(java.util.Random r, int depth) {
    switch (depth > 4 ? r.nextInt(6) : r.nextInt(8)) {
      case 0:
        return null;
      case 1:
        return r.nextBoolean();
      case 2:
        return switch (r.nextInt(3)) {
          case 0 -> Long.MIN_VALUE;
          case 1 -> r.nextLong();
          default -> (long) r.nextInt(100);
        };
      case 3:
        return switch (r.nextInt(4)) {
          case 0 -> -Double.MIN_VALUE;
          case 1 -> -Double.MAX_VALUE;
          case 2 -> -1.2345678901234567e-300;
          default -> r.nextDouble() * 1e6;
        };
      case 4, 5: {
        StringBuilder b = new StringBuilder();
        for (int n = r.nextInt(12); n > 0; n--) {
          b.append(NASTY[r.nextInt(NASTY.length)]);
        }
        return b.toString();
      }
      case 6: {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int n = r.nextInt(5); n > 0; n--) {
          m.put(randomValue(r, 99) instanceof String k ? k + n : "k" + n, randomValue(r, depth + 1));
        }
        return m;
      }
      default: {
        List<Object> l = new ArrayList<>();
        for (int n = r.nextInt(5); n > 0; n--) {
          l.add(randomValue(r, depth + 1));
        }
        return l;
      }
    }
  }
}
