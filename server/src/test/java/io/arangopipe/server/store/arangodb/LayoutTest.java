package io.arangopipe.server.store.arangodb;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.VertexDoc;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How records become ArangoDB documents and back, and logical vs. physical collection names. */
class LayoutTest {
  private static final Instant T = Instant.parse("2026-01-02T03:04:05.123456Z");

  @Test
  void hiddenCollectionsLiveUnderSafePhysicalNames() {
    assertThat(Layout.physical("_users")).isEqualTo("arangopipe_users");
    assertThat(Layout.logical("arangopipe_users")).isEqualTo("_users");
    assertThat(Layout.physical("datasets")).isEqualTo("datasets");
    assertThat(Layout.logical("arangopipe_collections")).isEqualTo("arangopipe_collections");
    assertThat(Layout.reservedName("arangopipe_x")).isTrue();
    assertThat(Layout.physicalId(new EntityId("_tokens", "abc"))).isEqualTo("arangopipe_tokens/abc");
    assertThat(Layout.logicalId("arangopipe_tokens/abc")).isEqualTo(new EntityId("_tokens", "abc"));
  }

  @Test
  void aVertexRoundTripsWithReservedAttributesPutBack() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("rows", 1599L);
    doc.put("_key", "not the key");
    doc.put("arangopipe", "mine");
    doc.put("", "empty");
    doc.put("nested", Map.of("_id", 1L));
    VertexDoc v = new VertexDoc(new EntityId("datasets", "k1"), "wine", "p", doc, T, T.plusSeconds(1), "alice");
    Map<String, Object> stored = Layout.vertexDocument(v);
    assertThat(stored).containsEntry("rows", 1599L).doesNotContainKey("_key").doesNotContainKey("");
    @SuppressWarnings("unchecked")
    Map<String, Object> sys = (Map<String, Object>) stored.get("arangopipe");
    assertThat(sys).containsEntry("name", "wine").containsEntry("project", "p").containsEntry("creator", "alice")
        .containsEntry("create_time", 1_767_323_045_123_456L);
    assertThat(sys.get("reserved")).isEqualTo(Map.of("_key", "not the key", "arangopipe", "mine", "", "empty"));
    Map<String, Object> back = new LinkedHashMap<>(stored);
    back.put("_key", "k1");
    back.put("_id", "datasets/k1");
    back.put("_rev", "_abc");
    assertThat(Layout.vertex("datasets", back)).isEqualTo(v);
    assertThat(Layout.docPath(List.of("_key", "x"))).containsExactly("arangopipe", "reserved", "_key", "x");
    assertThat(Layout.docPath(List.of("rows"))).containsExactly("rows");
  }

  @Test
  void aSeedDocumentReadsWithItsNameAttribute() {
    Map<String, Object> seed = Map.of("_key", "123", "_id", "datasets/123", "_rev", "_x", "name", "wine-red",
        "source", "uci", "size", 1599);
    VertexDoc v = Layout.vertex("datasets", seed);
    assertThat(v.name()).isEqualTo("wine-red");
    assertThat(v.project()).isEmpty();
    assertThat(v.createTime()).isEqualTo(Instant.EPOCH);
    assertThat(v.doc()).isEqualTo(Map.of("name", "wine-red", "source", "uci", "size", 1599L));
  }

  @Test
  void edgesKeepTheirSeedKeysAndPhysicalEnds() {
    EdgeDoc e = new EdgeDoc(new EntityId("run_models", "m1-r1"), new EntityId("models", "m1"),
        new EntityId("run", "r1"), Map.of("w", 1L), T, "bob");
    Map<String, Object> stored = Layout.edgeDocument(e);
    assertThat(stored).containsEntry("_key", "m1-r1").containsEntry("_from", "models/m1").containsEntry("_to", "run/r1");
    assertThat(Layout.edge("run_models", stored)).isEqualTo(e);
    EdgeDoc seed = Layout.edge("run_models", Map.of("_key", "m1-r1", "_from", "models/m1", "_to", "run/r1",
        "_rev", "_y"));
    assertThat(seed.doc()).isEmpty();
    assertThat(seed.creator()).isEmpty();
  }
}
