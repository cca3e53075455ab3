package io.arangopipe.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void integralNumbersBecomeLongsSoEqualDocumentsAreEqual() {
    Map<String, Object> fromWire = new LinkedHashMap<>();
    fromWire.put("b", 3.0);
    fromWire.put("a", List.of(1.5, 2.0f, 7));
    Object normalized = Json.normalize(fromWire);
    assertThat(normalized).isEqualTo(Map.of("a", List.of(1.5, 2L, 7L), "b", 3L));
    assertThat(Json.write(normalized)).isEqualTo("{\"a\":[1.5,2,7],\"b\":3}");
    assertThat(Json.parseObject(Json.write(normalized))).isEqualTo(normalized);
  }

  @Test
  void hugeAndNegativeZeroDoublesStayDoubles() {
    assertThat(Json.normalize(1e300)).isEqualTo(1e300);
    assertThat(Json.normalize(-0.0)).isEqualTo(-0.0);
    assertThat(Json.normalize(9007199254740992.0)).isEqualTo(9007199254740992L);
  }

  @Test
  void nanIsNotJson() {
    assertThatThrownBy(() -> Json.normalize(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aWrittenDocPrintsAsItsMapWouldAndEqualsIt() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("z", Map.of("b", List.of(1L, "x"), "a", true));
    doc.put("a", null);
    WrittenDoc written = WrittenDoc.of(doc);
    assertThat(written.json()).isEqualTo(Json.write(doc)).isEqualTo("{\"a\":null,\"z\":{\"a\":true,\"b\":[1,\"x\"]}}");
    assertThat(Json.write(written)).isSameAs(written.json());
    assertThat(Json.write(List.of(written))).isEqualTo("[" + written.json() + "]");
    assertThat(written).isEqualTo(doc).hasSameHashCodeAs(doc);
    doc.put("later", 1L); // a copy: later changes to the source map are not seen
    assertThat(written).doesNotContainKey("later");
    assertThatThrownBy(() -> written.put("x", 1L)).isInstanceOf(UnsupportedOperationException.class);
  }
}
