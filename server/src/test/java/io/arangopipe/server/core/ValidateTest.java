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
}
