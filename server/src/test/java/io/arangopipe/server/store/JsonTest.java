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
}
