package io.arangopipe.server.transfer;

import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.transfer.DumpFormat.Entry;
import io.arangopipe.server.transfer.DumpFormat.FormatException;
import io.arangopipe.server.transfer.DumpFormat.Kind;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a file in {@link DumpFormat} line by line and checks what one line alone cannot: the header
 * first, the sections in order, every vertex and edge in a collection the file defined before (edges
 * between the types their collection allows), no collection defined twice, nothing after the end line,
 * and the end line's counts equal to what the file holds. A file without its end line is truncated.
 */
public final class DumpReader {
  private final Reader in;
  private final Map<String, CollectionDef> defined = new HashMap<>();
  private final Map<String, Long> definedAt = new HashMap<>();
  private final Map<Kind, Long> counts = new EnumMap<>(Kind.class);
  private long line;
  private Kind last;
  private DumpFormat.Header header;
  private boolean ended;

  public DumpReader(Reader in) {
    this.in = in;
    for (Kind k : Kind.DATA) {
      counts.put(k, 0L);
    }
  }

  /** The number of the line {@link #next} returned last. */
  public long line() {
    return line;
  }

  /** The header, once the first line was read. */
  public DumpFormat.Header header() {
    return header;
  }

  /** How many data records of each kind were read so far. */
  public Map<Kind, Long> counts() {
    return counts;
  }

  /**
   * The next data record (never the header, which is read and checked first, nor the end line), or null
   * after the end line when the file is complete.
   *
   * @throws FormatException a bad line, or a file that is truncated or inconsistent
   * @throws UncheckedIOException reading failed
   */
  public Entry next() {
    while (true) {
      String text = readLine();
      if (text == null) {
        if (line == 0) {
          throw new FormatException(1, "the file is empty: not an Arangopipe export");
        }
        if (!ended) {
          throw new FormatException(line, "the file ends without its end line: it is truncated (an export that"
              + " did not finish, or a partial copy); export again");
        }
        return null;
      }
      line++;
      if (ended) {
        throw new FormatException(line, "a line after the end line; the file was edited or two files were joined");
      }
      if (text.isEmpty()) {
        throw new FormatException(line, "an empty line");
      }
      Entry e = DumpFormat.parse(line, text);
      if (line == 1) {
        if (!(e instanceof DumpFormat.Header h)) {
          throw new FormatException(1, "the first line must be the header (kind \"header\"); this is not an"
              + " Arangopipe export");
        }
        checkHeader(h);
        header = h;
        last = Kind.HEADER;
        continue;
      }
      if (e.kind() == Kind.HEADER) {
        throw new FormatException(line, "a second header; two files were joined");
      }
      if (last == Kind.COLLECTION && e.kind() != Kind.COLLECTION) {
        checkEdgeTypes();
      }
      if (e.kind().ordinal() < last.ordinal()) {
        throw new FormatException(line, "a " + e.kind().label() + " line after " + last.label()
            + " lines; the order is collection, vertex, edge, history, request, end");
      }
      last = e.kind();
      if (e instanceof DumpFormat.End end) {
        for (Kind k : Kind.DATA) {
          if (!end.counts().get(k).equals(counts.get(k))) {
            throw new FormatException(line, "field \"counts\": the end line counts " + end.counts().get(k) + " "
                + k.label() + " records but the file holds " + counts.get(k) + "; it is incomplete or was edited");
          }
        }
        ended = true;
        continue;
      }
      check(e);
      counts.merge(e.kind(), 1L, Long::sum);
      return e;
    }
  }

  private void checkHeader(DumpFormat.Header h) {
    if (!h.format().equals(DumpFormat.FORMAT)) {
      throw new FormatException(1, "field \"format\": \"" + DumpFormat.printable(h.format()) + "\" is not \""
          + DumpFormat.FORMAT + "\"; this is not an Arangopipe export");
    }
    if (h.version() != DumpFormat.VERSION) {
      throw new FormatException(1, "field \"version\": format version " + h.version() + " (written by "
          + DumpFormat.printable(h.serverVersion()) + ") is not one this server reads (version "
          + DumpFormat.VERSION + ")" + (h.version() > DumpFormat.VERSION
              ? "; import it with the release that wrote it or a newer one" : ""));
    }
  }

  private void check(Entry e) {
    if (e instanceof DumpFormat.Definition d) {
      if (defined.putIfAbsent(d.def().name(), d.def()) != null) {
        throw new FormatException(line, "field \"name\": collection \"" + d.def().name() + "\" is defined twice");
      }
      definedAt.put(d.def().name(), line);
    } else if (e instanceof DumpFormat.Vertex v) {
      CollectionDef def = defined.get(v.doc().id().collection());
      if (def == null || def.isEdge()) {
        throw new FormatException(line, "field \"id\": \"" + v.doc().id().collection() + "\" is not a vertex"
            + " collection defined earlier in the file");
      }
    } else if (e instanceof DumpFormat.Edge ed) {
      CollectionDef def = defined.get(ed.doc().id().collection());
      if (def == null || !def.isEdge()) {
        throw new FormatException(line, "field \"id\": \"" + ed.doc().id().collection() + "\" is not an edge"
            + " collection defined earlier in the file");
      }
      endpoint("from", ed.doc().from(), def.fromTypes());
      endpoint("to", ed.doc().to(), def.toTypes());
    }
  }

  /** Once every collection is defined: the types each edge collection joins must be vertex collections. */
  private void checkEdgeTypes() {
    for (CollectionDef def : defined.values()) {
      for (String t : def.fromTypes()) {
        requireVertexType(def, "from_types", t);
      }
      for (String t : def.toTypes()) {
        requireVertexType(def, "to_types", t);
      }
    }
  }

  private void requireVertexType(CollectionDef edge, String field, String t) {
    CollectionDef def = defined.get(t);
    if (def == null || def.isEdge()) {
      throw new FormatException(definedAt.get(edge.name()), "field \"" + field + "\": \"" + t
          + "\" is not a vertex collection the file defines");
    }
  }

  private void endpoint(String field, EntityId id, java.util.List<String> allowed) {
    if (!allowed.isEmpty() && !allowed.contains(id.collection())) {
      throw new FormatException(line, "field \"" + field + "\": this edge collection joins " + allowed + ", not \""
          + id.collection() + "\"");
    }
  }

  private final char[] buf = new char[64 * 1024];
  private int pos;
  private int limit;

  private String readLine() {
    try {
      StringBuilder b = new StringBuilder();
      while (true) {
        if (pos == limit) {
          limit = in.read(buf, 0, buf.length);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            break;
          }
        }
        int start = pos;
        while (pos < limit && buf[pos] != '\n') {
          pos++;
        }
        if (b.length() + (pos - start) > DumpFormat.MAX_LINE_CHARS) {
          throw new FormatException(line + 1, "longer than " + DumpFormat.MAX_LINE_CHARS + " characters");
        }
        b.append(buf, start, pos - start);
        if (pos < limit) {
          pos++; // the newline
          return b.toString();
        }
      }
      if (b.length() == 0) {
        return null;
      }
      // The last line has no newline: an export always ends with one, so this one was cut off.
      throw new FormatException(line + 1, "the last line has no newline: the file is truncated; export again");
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new FormatException(line + 1, "not UTF-8 text");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the file: " + e.getMessage(), e);
    }
  }
}
