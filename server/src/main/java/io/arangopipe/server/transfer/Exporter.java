package io.arangopipe.server.transfer;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import io.arangopipe.server.transfer.DumpFormat.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a whole store in {@link DumpFormat}, through the {@link GraphStore} interface only, so it works
 * on every store. Each page is read in its own snapshot (keyset paging by key or sequence number): on a
 * store that nobody writes to meanwhile the file is an exact copy; on a live store each document is
 * consistent, but the file as a whole is not one point in time.
 */
public final class Exporter {
  private final GraphStore store;
  private final int pageSize;
  private final Progress progress;

  public Exporter(GraphStore store, int pageSize, Progress progress) {
    if (pageSize < 1) {
      throw new IllegalArgumentException("pageSize must be positive");
    }
    this.store = store;
    this.pageSize = pageSize;
    this.progress = progress;
  }

  /**
   * Writes everything to {@code out} (which it flushes but does not close).
   *
   * @return how many records of each kind were written
   * @throws UncheckedIOException writing failed
   */
  public Map<Kind, Long> export(Writer out, String serverVersion, Clock clock) {
    Map<Kind, Long> counts = new EnumMap<>(Kind.class);
    for (Kind k : Kind.DATA) {
      counts.put(k, 0L);
    }
    try {
      write(out, new DumpFormat.Header(DumpFormat.FORMAT, DumpFormat.VERSION, serverVersion, store.describe(),
          clock.instant().truncatedTo(ChronoUnit.MICROS)));
      List<CollectionDef> collections = store.read(tx -> tx.collections());
      for (CollectionDef def : collections) {
        emit(out, counts, new DumpFormat.Definition(def));
      }
      for (CollectionDef def : collections) {
        if (def.isEdge()) {
          continue;
        }
        String after = null;
        while (true) {
          String from = after;
          List<VertexDoc> page = store.read(tx -> tx.findVertices(
              new VertexQuery(def.name(), List.of(), VertexQuery.Order.KEY, from, null, pageSize)));
          for (VertexDoc v : page) {
            emit(out, counts, new DumpFormat.Vertex(v));
          }
          if (page.size() < pageSize) {
            break;
          }
          after = page.get(page.size() - 1).id().key();
        }
      }
      for (CollectionDef def : collections) {
        if (!def.isEdge()) {
          continue;
        }
        String after = "";
        while (true) {
          String from = after;
          List<EdgeDoc> page = store.read(tx -> tx.scanEdges(def.name(), from, pageSize));
          for (EdgeDoc e : page) {
            emit(out, counts, new DumpFormat.Edge(e));
          }
          if (page.size() < pageSize) {
            break;
          }
          after = page.get(page.size() - 1).id().key();
        }
      }
      long seq = 0;
      while (true) {
        long from = seq;
        List<HistoryRecord> page = store.read(tx -> tx.scanHistory(from, pageSize));
        for (HistoryRecord h : page) {
          emit(out, counts, new DumpFormat.History(h));
        }
        if (page.size() < pageSize) {
          break;
        }
        seq = page.get(page.size() - 1).seq();
      }
      String afterId = "";
      while (true) {
        String from = afterId;
        List<RequestRecord> page = store.read(tx -> tx.scanRequests(from, pageSize));
        for (RequestRecord r : page) {
          emit(out, counts, new DumpFormat.Request(r));
        }
        if (page.size() < pageSize) {
          break;
        }
        afterId = page.get(page.size() - 1).requestId();
      }
      write(out, new DumpFormat.End(counts));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export: " + e.getMessage(), e);
    }
    progress.done(counts);
    return counts;
  }

  private void emit(Writer out, Map<Kind, Long> counts, DumpFormat.Entry e) throws IOException {
    write(out, e);
    counts.merge(e.kind(), 1L, Long::sum);
    progress.tick(counts);
  }

  private static void write(Writer out, DumpFormat.Entry e) throws IOException {
    out.write(DumpFormat.line(e));
    out.write('\n');
  }
}
