package io.arangopipe.server.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the traversal reads a wide level near max_nodes: limited reads, and the full read when they are not enough. */
class LineageTraversalTest {

  @TempDir
  Path dir;

  private static final Instant T = Instant.parse("2024-01-01T00:00:00Z");

  /**
   * A dataset with 100 featuresets; runs r1..r5 use every featureset, r6 only the 16th. Downstream with
   * room for 110 nodes, the first slice of featuresets has 80 edges to r1..r5 before the one to r6: the
   * limited read (64 rows) enters r1..r5 without filling up, so the slice must be read again in full.
   */
  @Test
  void aLimitedReadThatDoesNotFillUpIsReadAgainInFull() {
    try (SqliteStore store = SqliteStore.open(dir, SqliteStore.Options.defaults())) {
      MetadataCore core = new MetadataCore(store, Clock.systemUTC());
      EntityId ds = new EntityId(Schema.DATASETS, "ds");
      List<EntityId> fs = new ArrayList<>();
      List<EntityId> runs = new ArrayList<>();
      for (int i = 1; i <= 100; i++) {
        fs.add(new EntityId(Schema.FEATURESETS, String.format("fs%03d", i)));
      }
      for (int i = 1; i <= 6; i++) {
        runs.add(new EntityId(Schema.RUN, "r" + i));
      }
      store.write(tx -> {
        tx.insertVertex(vertex(ds));
        fs.forEach(f -> tx.insertVertex(vertex(f)));
        runs.forEach(r -> tx.insertVertex(vertex(r)));
        fs.forEach(f -> tx.insertEdge(edge(Schema.FEATURESET_DATASET, f, ds)));
        for (EntityId f : fs.subList(0, 16)) {
          for (EntityId r : runs.subList(0, 5)) {
            tx.insertEdge(edge(Schema.RUN_FEATURESETS, r, f));
          }
        }
        tx.insertEdge(edge(Schema.RUN_FEATURESETS, runs.get(5), fs.get(15)));
        return null;
      });

      Views.Lineage l = core.lineage(Principal.ANONYMOUS, ds.toString(), Views.Direction.DOWNSTREAM, 5, 110,
          List.of(), List.of());

      assertThat(l.nodes()).extracting(VertexDoc::id).contains(runs.toArray(new EntityId[0]));
      assertThat(l.nodes()).hasSize(107);
      assertThat(l.truncated()).isFalse();
      assertThat(l.edges()).hasSize(100 + 16 * 5 + 1);

      // With room for 104, the same traversal fills up in that slice and says it was cut.
      Views.Lineage cut = core.lineage(Principal.ANONYMOUS, ds.toString(), Views.Direction.DOWNSTREAM, 5, 104,
          List.of(), List.of());
      assertThat(cut.nodes()).hasSize(104);
      assertThat(cut.truncated()).isTrue();
    }
  }

  private static VertexDoc vertex(EntityId id) {
    return new VertexDoc(id, null, "", Map.of(), T, T, "tester");
  }

  private static EdgeDoc edge(String collection, EntityId from, EntityId to) {
    return new EdgeDoc(new EntityId(collection, from.key() + "-" + to.key()), from, to, Map.of(), T, "tester");
  }
}
