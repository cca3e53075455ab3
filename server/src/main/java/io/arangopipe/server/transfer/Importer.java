package io.arangopipe.server.transfer;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.Condition;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.FailedPreconditionException;
import io.arangopipe.server.store.Field;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.VertexDoc;
import io.arangopipe.server.store.VertexQuery;
import io.arangopipe.server.store.WriteTx;
import io.arangopipe.server.transfer.DumpFormat.Entry;
import io.arangopipe.server.transfer.DumpFormat.Kind;
import java.io.Reader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Applies a file in {@link DumpFormat} to a store, through the {@link GraphStore} interface only, in
 * batches of {@code batchSize} records, each batch one atomic write. Into an empty store it copies
 * everything; a record the store already holds unchanged is skipped, so importing the same file again
 * (for instance after an interrupted import) is harmless and completes what is missing. A record that
 * exists with other contents is a conflict: {@link OnConflict#FAIL} stops there (the batches before
 * it stay committed), {@link OnConflict#SKIP} keeps the store's version and counts it.
 *
 * <p>History is a sequence without keys: the file's change records are matched, in order, against the
 * store's; those beyond the end of the store's history are appended with their original time and actor.
 */
public final class Importer {

  /** What to do with a record that exists in the store with other contents. */
  public enum OnConflict {
    FAIL,
    SKIP
  }

  /** What an import did, per kind of record. */
  public record Summary(Map<Kind, Long> read, Map<Kind, Long> written, Map<Kind, Long> unchanged,
      Map<Kind, Long> conflicts) {}

  /** The file cannot be imported into this store: a conflict, or an edge whose vertex is missing. */
  public static final class ImportException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ImportException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static final String CONFLICT = "IMPORT_CONFLICT";
  /** The file does not fit the store (an edge's vertex or a record's collection is missing). */
  private static final String UNFIT = "IMPORT_UNFIT";

  private final GraphStore store;
  private final int batchSize;
  private final OnConflict onConflict;
  private final Progress progress;

  public Importer(GraphStore store, int batchSize, OnConflict onConflict, Progress progress) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be positive");
    }
    this.store = store;
    this.batchSize = batchSize;
    this.onConflict = Objects.requireNonNull(onConflict);
    this.progress = progress;
  }

  /** Reads and checks a whole file without writing anything; returns its counts. */
  public static Map<Kind, Long> check(Reader in) {
    DumpReader r = new DumpReader(in);
    while (r.next() != null) {
      // next() checks each line and, at the end, the counts.
    }
    return r.counts();
  }

  /**
   * Imports the file.
   *
   * @throws DumpFormat.FormatException a bad line (the batches before it are committed)
   * @throws ImportException a conflict or a dangling edge (the batches before it are committed)
   */
  public Summary run(Reader in) {
    DumpReader reader = new DumpReader(in);
    Tally total = new Tally();
    HistoryCursor cursor = new HistoryCursor(0, false, new ArrayDeque<>());
    List<Numbered> batch = new ArrayList<>(batchSize);
    Entry e;
    while ((e = reader.next()) != null) {
      batch.add(new Numbered(reader.line(), e));
      if (batch.size() >= batchSize) {
        cursor = flush(batch, cursor, total);
      }
    }
    if (!batch.isEmpty()) {
      flush(batch, cursor, total);
    }
    progress.done(total.read);
    return new Summary(total.read, total.written, total.unchanged, total.conflicts);
  }

  private record Numbered(long line, Entry entry) {}

  /** Where the matching of the file's history against the store's stands. */
  private record HistoryCursor(long afterSeq, boolean exhausted, ArrayDeque<HistoryRecord> ahead) {
    HistoryCursor copy() {
      return new HistoryCursor(afterSeq, exhausted, new ArrayDeque<>(ahead));
    }
  }

  private static final class Tally {
    final Map<Kind, Long> read = zeros();
    final Map<Kind, Long> written = zeros();
    final Map<Kind, Long> unchanged = zeros();
    final Map<Kind, Long> conflicts = zeros();

    void add(Tally o) {
      o.read.forEach((k, n) -> read.merge(k, n, Long::sum));
      o.written.forEach((k, n) -> written.merge(k, n, Long::sum));
      o.unchanged.forEach((k, n) -> unchanged.merge(k, n, Long::sum));
      o.conflicts.forEach((k, n) -> conflicts.merge(k, n, Long::sum));
    }

    private static Map<Kind, Long> zeros() {
      Map<Kind, Long> m = new EnumMap<>(Kind.class);
      for (Kind k : Kind.DATA) {
        m.put(k, 0L);
      }
      return m;
    }
  }

  private record Outcome(Tally tally, HistoryCursor cursor) {}

  /** Writes one batch atomically. The work keeps no state between attempts, so a store may retry it. */
  private HistoryCursor flush(List<Numbered> batch, HistoryCursor cursor, Tally total) {
    List<Numbered> items = List.copyOf(batch);
    batch.clear();
    Outcome out;
    try {
      out = store.write(tx -> {
        Tally t = new Tally();
        HistoryCursor c = cursor.copy();
        Map<String, Optional<CollectionDef>> defs = new HashMap<>();
        Map<EntityId, VertexDoc> vertices = prefetchVertices(tx, items);
        for (Numbered n : items) {
          t.read.merge(n.entry().kind(), 1L, Long::sum);
          c = apply(tx, n, t, c, defs, vertices);
        }
        return new Outcome(t, c);
      });
    } catch (FailedPreconditionException x) {
      if (!CONFLICT.equals(x.reason()) && !UNFIT.equals(x.reason())) {
        throw x;
      }
      throw new ImportException(x.getMessage() + (CONFLICT.equals(x.reason())
          ? " (--on-conflict skip keeps the store's version and goes on)" : "") + ". The "
          + Progress.total(total.read) + " records before this batch of " + items.size() + " are imported, nothing"
          + " of this batch is; importing the file again skips what is already there", x);
    }
    total.add(out.tally());
    progress.tick(total.read);
    return out.cursor();
  }

  /**
   * The vertices of the store that the batch's vertex and edge lines name, read in one go (one query per
   * collection instead of one per line, which matters for a store across a network).
   */
  private static Map<EntityId, VertexDoc> prefetchVertices(WriteTx tx, List<Numbered> items) {
    java.util.Set<EntityId> ids = new java.util.LinkedHashSet<>();
    for (Numbered n : items) {
      if (n.entry() instanceof DumpFormat.Vertex v) {
        ids.add(v.doc().id());
      } else if (n.entry() instanceof DumpFormat.Edge e) {
        ids.add(e.doc().from());
        ids.add(e.doc().to());
      }
    }
    return ids.isEmpty() ? new HashMap<>() : new HashMap<>(tx.vertices(ids));
  }

  /** Applies one record; {@code vertices} holds the store's vertices the batch names, and those it adds. */
  private HistoryCursor apply(WriteTx tx, Numbered n, Tally t, HistoryCursor c,
      Map<String, Optional<CollectionDef>> defs, Map<EntityId, VertexDoc> vertices) {
    Entry e = n.entry();
    Kind kind = e.kind();
    if (e instanceof DumpFormat.Definition d) {
      Optional<CollectionDef> existing = tx.collection(d.def().name());
      if (existing.isEmpty()) {
        tx.putCollection(d.def());
        written(t, kind);
      } else if (existing.get().equals(d.def())) {
        unchanged(t, kind);
      } else {
        conflict(t, kind, n.line(), "collection \"" + d.def().name() + "\" exists in the store with another"
            + " definition (store: " + existing.get() + ", file: " + d.def() + ")");
      }
      defs.remove(d.def().name());
    } else if (e instanceof DumpFormat.Vertex v) {
      VertexDoc doc = v.doc();
      requireType(tx, defs, n.line(), doc.id().collection(), CollectionDef.Kind.VERTEX);
      Optional<VertexDoc> existing = Optional.ofNullable(vertices.get(doc.id()));
      if (existing.isPresent()) {
        if (existing.get().equals(doc)) {
          unchanged(t, kind);
        } else {
          conflict(t, kind, n.line(), "vertex " + doc.id() + " exists in the store with other contents ("
              + vertexDifferences(existing.get(), doc) + " differ)");
        }
        return c;
      }
      if (doc.name() != null) {
        List<VertexDoc> sameName = tx.findVertices(new VertexQuery(doc.id().collection(), List.of(
            new Condition(new Field.Name(), doc.name()), new Condition(new Field.Project(), doc.project())),
            VertexQuery.Order.KEY, null, null, 1));
        if (!sameName.isEmpty()) {
          conflict(t, kind, n.line(), "vertex " + doc.id() + ": its name \"" + doc.name() + "\"" + (doc.project()
              .isEmpty() ? "" : " in project \"" + doc.project() + "\"") + " is taken in the store by "
              + sameName.get(0).id());
          return c;
        }
      }
      tx.insertVertex(doc);
      vertices.put(doc.id(), doc);
      written(t, kind);
    } else if (e instanceof DumpFormat.Edge ed) {
      EdgeDoc doc = ed.doc();
      requireType(tx, defs, n.line(), doc.id().collection(), CollectionDef.Kind.EDGE);
      Optional<EdgeDoc> existing = tx.edge(doc.id());
      if (existing.isPresent()) {
        if (existing.get().equals(doc)) {
          unchanged(t, kind);
        } else {
          conflict(t, kind, n.line(), "edge " + doc.id() + " exists in the store with other contents");
        }
        return c;
      }
      for (EntityId end : List.of(doc.from(), doc.to())) {
        if (!vertices.containsKey(end)) {
          throw new FailedPreconditionException(UNFIT, "line " + n.line() + ": edge " + doc.id() + " joins "
              + end + ", which is neither in the file nor in the store");
        }
      }
      Optional<EdgeDoc> samePair = tx.edgeBetween(doc.id().collection(), doc.from(), doc.to());
      if (samePair.isPresent()) {
        conflict(t, kind, n.line(), "edge " + doc.id() + ": the store already joins " + doc.from() + " and "
            + doc.to() + " with " + samePair.get().id());
        return c;
      }
      tx.insertEdge(doc);
      written(t, kind);
    } else if (e instanceof DumpFormat.History h) {
      return history(tx, n, h.record(), t, c);
    } else if (e instanceof DumpFormat.Request r) {
      RequestRecord rec = r.record();
      Optional<RequestRecord> existing = tx.request(rec.requestId());
      if (existing.isEmpty()) {
        tx.putRequest(rec);
        written(t, kind);
      } else if (existing.get().equals(rec)) {
        unchanged(t, kind);
      } else {
        conflict(t, kind, n.line(), "request_id \"" + DumpFormat.printable(rec.requestId()) + "\" exists in the"
            + " store with another record");
      }
    }
    return c;
  }

  /** Matches the file's next change record against the store's next one, or appends it past their end. */
  private HistoryCursor history(WriteTx tx, Numbered n, HistoryRecord rec, Tally t, HistoryCursor c) {
    if (!c.exhausted() && c.ahead().isEmpty()) {
      List<HistoryRecord> page = tx.scanHistory(c.afterSeq(), batchSize);
      c = new HistoryCursor(c.afterSeq(), page.isEmpty(), new ArrayDeque<>(page));
    }
    if (c.exhausted()) {
      tx.appendHistory(rec);
      written(t, Kind.HISTORY);
      return c;
    }
    HistoryRecord theirs = c.ahead().poll();
    c = new HistoryCursor(theirs.seq(), false, c.ahead());
    if (theirs.id().equals(rec.id()) && theirs.time().equals(rec.time()) && theirs.actor().equals(rec.actor())
        && theirs.action().equals(rec.action()) && theirs.changes().equals(rec.changes())) {
      unchanged(t, Kind.HISTORY);
    } else {
      conflict(t, Kind.HISTORY, n.line(), "the store's history differs from the file's at this record (the"
          + " store's record is " + theirs.action() + " of " + theirs.id() + " at " + theirs.time()
          + "); history is only imported into a store whose history is empty or the same as the file's so far");
    }
    return c;
  }

  private static void requireType(WriteTx tx, Map<String, Optional<CollectionDef>> defs, long line, String name,
      CollectionDef.Kind kind) {
    Optional<CollectionDef> def = defs.computeIfAbsent(name, tx::collection);
    if (def.isEmpty() || def.get().kind() != kind) {
      // The reader checked that the file defines it; the store's definition conflicted and was skipped.
      throw new FailedPreconditionException(UNFIT, "line " + line + ": \"" + name + "\" is not a "
          + kind.name().toLowerCase() + " collection in the store");
    }
  }

  private static String vertexDifferences(VertexDoc a, VertexDoc b) {
    List<String> d = new ArrayList<>();
    if (!Objects.equals(a.name(), b.name())) {
      d.add("name");
    }
    if (!a.project().equals(b.project())) {
      d.add("project");
    }
    if (!a.doc().equals(b.doc())) {
      d.add("doc");
    }
    if (!a.createTime().equals(b.createTime())) {
      d.add("create_time");
    }
    if (!a.updateTime().equals(b.updateTime())) {
      d.add("update_time");
    }
    if (!a.creator().equals(b.creator())) {
      d.add("creator");
    }
    return String.join(", ", d);
  }

  private static void written(Tally t, Kind k) {
    t.written.merge(k, 1L, Long::sum);
  }

  private static void unchanged(Tally t, Kind k) {
    t.unchanged.merge(k, 1L, Long::sum);
  }

  private void conflict(Tally t, Kind k, long line, String message) {
    if (onConflict == OnConflict.FAIL) {
      throw new FailedPreconditionException(CONFLICT, "line " + line + ": conflict: " + message);
    }
    t.conflicts.merge(k, 1L, Long::sum);
  }
}
