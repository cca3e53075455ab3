package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class StructsTest {
  enum Kind { LASSO }

  @Test
  void roundTripsJsonLikeValues() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("name", "housing");
    doc.put("rows", 20640);
    doc.put("ratio", 0.25);
    doc.put("ok", true);
    doc.put("none", null);
    doc.put("cols", List.of("medv", "lstat"));
    doc.put("nested", Map.of("cv", 5));
    Struct s = Structs.toStruct(doc);
    Map<String, Object> back = Structs.toMap(s);
    assertThat(back).containsEntry("name", "housing").containsEntry("rows", 20640.0).containsEntry("ratio", 0.25)
        .containsEntry("ok", true).containsEntry("none", null).containsEntry("cols", List.of("medv", "lstat"))
        .containsEntry("nested", Map.of("cv", 5.0));
    assertThat(back.keySet()).containsExactly("name", "rows", "ratio", "ok", "none", "cols", "nested");
  }

  @Test
  void convertsArraysEnumsTimesAndProtobufValues() {
    Instant t = Instant.parse("2024-01-31T10:00:00Z");
    UUID u = UUID.randomUUID();
    Struct s = Structs.toStruct(Map.of("a", new double[] {1, 2}, "k", Kind.LASSO, "t", t, "u", u,
        "v", Value.newBuilder().setBoolValue(false).build(), "s", Structs.toStruct(Map.of("x", "y"))));
    Map<String, Object> m = Structs.toMap(s);
    assertThat(m.get("a")).isEqualTo(Arrays.asList(1.0, 2.0));
    assertThat(m.get("k")).isEqualTo("LASSO");
    assertThat(m.get("t")).isEqualTo("2024-01-31T10:00:00Z");
    assertThat(m.get("u")).isEqualTo(u.toString());
    assertThat(m.get("v")).isEqualTo(false);
    assertThat(m.get("s")).isEqualTo(Map.of("x", "y"));
    assertThat(Structs.toStruct(null)).isEqualTo(Struct.getDefaultInstance());
  }

  @Test
  void refusesWhatADocumentCannotHoldNamingThePath() {
    assertThatThrownBy(() -> Structs.toStruct(Map.of("m", Map.of("x", Double.NaN))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"m.x\"").hasMessageContaining("finite");
    assertThatThrownBy(() -> Structs.toStruct(Map.of("l", List.of(1, new Object()))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"l[1]\"")
        .hasMessageContaining("java.lang.Object");
    assertThatThrownBy(() -> Structs.toStruct(Map.of("m", Map.of(1, 2))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a String");
  }
}
