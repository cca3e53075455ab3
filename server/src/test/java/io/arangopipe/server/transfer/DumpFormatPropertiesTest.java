package io.arangopipe.server.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.VertexDoc;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;

/**
 * Properties of the line format: any input either parses or fails with a {@link DumpFormat.FormatException}
 * naming the line (never another exception), and every vertex and edge prints to a line that parses back
 * to the same record.
 */
class DumpFormatPropertiesTest {

  @Property(tries = 3000)
  void anyInputParsesOrFailsWithALineError(@ForAll @StringLength(max = 300) String input) {
    parseOrFormatError(input);
  }

  @Property(tries = 3000)
  void lineLikeNoiseParsesOrFailsWithALineError(@ForAll("noise") String input) {
    parseOrFormatError(input);
  }

  private static void parseOrFormatError(String input) {
    try {
      DumpFormat.parse(7, input);
    } catch (DumpFormat.FormatException e) {
      assertThat(e.getMessage()).startsWith("line 7: ");
      assertThat(e.line()).isEqualTo(7);
    }
  }

  @Property(tries = 1000)
  void verticesAndEdgesRoundTrip(@ForAll("vertices") VertexDoc v, @ForAll("docs") Map<String, Object> edgeDoc) {
    String line = DumpFormat.line(new DumpFormat.Vertex(v));
    assertThat(DumpFormat.parse(1, line)).isEqualTo(new DumpFormat.Vertex(v));
    EdgeDoc e = new EdgeDoc(new EntityId("links", "e-" + v.id().key()), v.id(), new EntityId("_users", "alice"),
        edgeDoc, v.createTime(), v.creator());
    assertThat(DumpFormat.parse(1, DumpFormat.line(new DumpFormat.Edge(e)))).isEqualTo(new DumpFormat.Edge(e));
  }

  @Provide
  Arbitrary<String> noise() {
    Arbitrary<String> tokens = Arbitraries.of("{", "}", "[", "]", ",", ":", "\"kind\"", "\"vertex\"", "\"edge\"",
        "\"header\"", "\"end\"", "\"id\"", "\"run/x\"", "\"doc\"", "\"create_time\"", "\"2024-01-01T00:00:00Z\"",
        "null", "true", "1", "-2.5", "1e999", "9223372036854775808", "\"\\u0000\"", "\"é\"", "\"counts\"");
    return tokens.list().ofMaxSize(30).map(l -> String.join("", l));
  }

  @Provide
  Arbitrary<VertexDoc> vertices() {
    Arbitrary<String> keys = Arbitraries.strings().withChars("AZaz09_-.@()+,=;$!*'%:").ofMinLength(1).ofMaxLength(20);
    Arbitrary<String> text = Arbitraries.strings().ofMaxLength(20);
    Arbitrary<Instant> times = Arbitraries.longs().between(-62_135_596_800_000_000L, 253_402_300_799_999_999L)
        .map(us -> Instant.ofEpochSecond(Math.floorDiv(us, 1_000_000L), Math.floorMod(us, 1_000_000L) * 1000L));
    return Combinators.combine(Arbitraries.of("run", "datasets", "_tokens"), keys, text.injectNull(0.3), text,
        docs(), times, times, text).as((c, k, name, project, doc, t1, t2, creator) ->
            new VertexDoc(new EntityId(c, k), name, project, doc, t1, t2, creator));
  }

  @Provide
  Arbitrary<Map<String, Object>> docs() {
    return value(3).map(v -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("v", v);
      @SuppressWarnings("unchecked")
      Map<String, Object> n = (Map<String, Object>) Json.normalize(m);
      return n;
    });
  }

  private Arbitrary<Object> value(int depth) {
    Arbitrary<Object> leaf = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(10).map(o -> (Object) o),
        Arbitraries.longs().map(o -> (Object) o), Arbitraries.doubles().map(o -> (Object) o),
        Arbitraries.of(true, false).map(o -> (Object) o), Arbitraries.just(null));
    if (depth == 0) {
      return leaf;
    }
    return Arbitraries.oneOf(leaf, value(depth - 1).list().ofMaxSize(3).map(l -> (Object) l),
        Arbitraries.maps(Arbitraries.strings().ofMaxLength(5), value(depth - 1)).ofMaxSize(3).map(m -> (Object) m));
  }
}
