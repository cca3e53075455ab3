package io.arangopipe.server.transfer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.arangopipe.server.core.Accounts;
import io.arangopipe.server.core.Validate;
import io.arangopipe.server.store.CollectionDef;
import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.HistoryRecord;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.RequestRecord;
import io.arangopipe.server.store.Times;
import io.arangopipe.server.store.VertexDoc;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The export format: JSON lines, one record per line, each an object whose first field {@code kind} says
 * what it is. A file is a header, then the sections in the order import applies them in one pass
 * (collections, vertices, edges, history, requests), then an {@code end} line with the count of each kind,
 * so that a truncated file is detected. Times are RFC 3339 UTC strings with microseconds; documents are
 * printed as the stores print them (keys sorted, integers without a fraction).
 *
 * <pre>
 * {"kind":"header","format":"arangopipe-export","version":1,"server_version":"...","source":"...","time":"..."}
 * {"kind":"collection","name":"run","type":"vertex","builtin":true,"flow":"forward","from_types":[],"to_types":[]}
 * {"kind":"vertex","id":"run/r","name":"r","project":"","create_time":"...","update_time":"...","creator":"u","doc":{}}
 * {"kind":"edge","id":"run_models/K","from":"models/M","to":"run/r","create_time":"...","creator":"u","doc":{}}
 * {"kind":"history","id":"deployment/D","time":"...","actor":"u","action":"STATUS_CHANGED","changes":{}}
 * {"kind":"request","request_id":"r-1","operation":"LogRun","fingerprint":"...","result":"...","create_time":"..."}
 * {"kind":"end","counts":{"collection":20,"vertex":9,"edge":11,"history":1,"request":1}}
 * </pre>
 */
public final class DumpFormat {
  public static final String FORMAT = "arangopipe-export";
  public static final long VERSION = 1;
  /** Longest line read; a longer one is an error (documents are at most 1 MiB, see Validate). */
  public static final int MAX_LINE_CHARS = 8 << 20;
  /** Deepest nesting accepted in a document. */
  static final int MAX_DEPTH = 64;

  /** The kinds of records, in the order they must appear. */
  public enum Kind {
    HEADER,
    COLLECTION,
    VERTEX,
    EDGE,
    HISTORY,
    REQUEST,
    END;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The kinds that hold data (and are counted in the end line). */
    public static final List<Kind> DATA = List.of(COLLECTION, VERTEX, EDGE, HISTORY, REQUEST);
  }

  /** One record of the file. */
  public sealed interface Entry {
    Kind kind();
  }

  public record Header(String format, long version, String serverVersion, String source, Instant time)
      implements Entry {
    @Override
    public Kind kind() {
      return Kind.HEADER;
    }
  }

  public record Definition(CollectionDef def) implements Entry {
    @Override
    public Kind kind() {
      return Kind.COLLECTION;
    }
  }

  public record Vertex(VertexDoc doc) implements Entry {
    @Override
    public Kind kind() {
      return Kind.VERTEX;
    }
  }

  public record Edge(EdgeDoc doc) implements Entry {
    @Override
    public Kind kind() {
      return Kind.EDGE;
    }
  }

  /** A change record; its sequence number is not part of the file (the order of the lines is). */
  public record History(HistoryRecord record) implements Entry {
    @Override
    public Kind kind() {
      return Kind.HISTORY;
    }
  }

  public record Request(RequestRecord record) implements Entry {
    @Override
    public Kind kind() {
      return Kind.REQUEST;
    }
  }

  public record End(Map<Kind, Long> counts) implements Entry {
    @Override
    public Kind kind() {
      return Kind.END;
    }
  }

  /** A line that is not a valid record: says which line and which field. */
  public static final class FormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long line;

    public FormatException(long line, String message) {
      super("line " + line + ": " + message);
      this.line = line;
    }

    public long line() {
      return line;
    }
  }

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper READER = new ObjectMapper()
      .enable(DeserializationFeature.USE_LONG_FOR_INTS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  static {
    READER.getFactory().setStreamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH + 2).maxStringLength(MAX_LINE_CHARS).build());
  }

  private DumpFormat() {}

  // ---- writing -----------------------------------------------------------------------------------

  /** The line (without its newline) for an entry. */
  public static String line(Entry e) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("kind", e.kind().label());
      if (e instanceof Header h) {
        g.writeStringField("format", h.format());
        g.writeNumberField("version", h.version());
        g.writeStringField("server_version", h.serverVersion());
        g.writeStringField("source", h.source());
        g.writeStringField("time", Times.format(h.time()));
      } else if (e instanceof Definition c) {
        CollectionDef d = c.def();
        g.writeStringField("name", d.name());
        g.writeStringField("type", d.kind().name().toLowerCase(Locale.ROOT));
        g.writeBooleanField("builtin", d.builtin());
        g.writeStringField("flow", d.flow().name().toLowerCase(Locale.ROOT));
        g.writeFieldName("from_types");
        g.writeRawValue(Json.write(d.fromTypes()));
        g.writeFieldName("to_types");
        g.writeRawValue(Json.write(d.toTypes()));
      } else if (e instanceof Vertex v) {
        VertexDoc d = v.doc();
        g.writeStringField("id", d.id().toString());
        g.writeStringField("name", d.name());
        g.writeStringField("project", d.project());
        g.writeStringField("create_time", Times.format(d.createTime()));
        g.writeStringField("update_time", Times.format(d.updateTime()));
        g.writeStringField("creator", d.creator());
        g.writeFieldName("doc");
        g.writeRawValue(Json.write(d.doc()));
      } else if (e instanceof Edge ed) {
        EdgeDoc d = ed.doc();
        g.writeStringField("id", d.id().toString());
        g.writeStringField("from", d.from().toString());
        g.writeStringField("to", d.to().toString());
        g.writeStringField("create_time", Times.format(d.createTime()));
        g.writeStringField("creator", d.creator());
        g.writeFieldName("doc");
        g.writeRawValue(Json.write(d.doc()));
      } else if (e instanceof History h) {
        HistoryRecord r = h.record();
        g.writeStringField("id", r.id().toString());
        g.writeStringField("time", Times.format(r.time()));
        g.writeStringField("actor", r.actor());
        g.writeStringField("action", r.action());
        g.writeFieldName("changes");
        g.writeRawValue(Json.write(r.changes()));
      } else if (e instanceof Request rq) {
        RequestRecord r = rq.record();
        g.writeStringField("request_id", r.requestId());
        g.writeStringField("operation", r.operation());
        g.writeStringField("fingerprint", r.fingerprint());
        g.writeStringField("result", r.result());
        g.writeStringField("create_time", Times.format(r.createTime()));
      } else if (e instanceof End end) {
        g.writeObjectFieldStart("counts");
        for (Kind k : Kind.DATA) {
          g.writeNumberField(k.label(), end.counts().getOrDefault(k, 0L));
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
    return out.toString();
  }

  // ---- reading -----------------------------------------------------------------------------------

  /**
   * Parses and validates one line.
   *
   * @throws FormatException the line is not JSON, has an unknown kind, misses a field, has an unknown
   *     field or a value of the wrong type or form
   */
  public static Entry parse(long lineNo, String line) {
    Map<String, Object> m;
    if (!line.stripLeading().startsWith("{")) {
      throw new FormatException(lineNo, "not a JSON object");
    }
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> n = (Map<String, Object>) Json.normalize(READER.readValue(line, MAP));
      m = n;
    } catch (JsonProcessingException e) {
      throw new FormatException(lineNo, "not a JSON object: " + e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      throw new FormatException(lineNo, e.getMessage());
    }
    if (m == null) {
      throw new FormatException(lineNo, "not a JSON object");
    }
    Fields f = new Fields(lineNo, m);
    String kindName = f.string("kind");
    Kind kind = null;
    for (Kind k : Kind.values()) {
      if (k.label().equals(kindName)) {
        kind = k;
      }
    }
    if (kind == null) {
      throw new FormatException(lineNo, "field \"kind\": unknown kind \"" + printable(kindName)
          + "\" (expected one of header, collection, vertex, edge, history, request, end)");
    }
    Entry e = switch (kind) {
      case HEADER -> new Header(f.string("format"), f.number("version"), f.string("server_version"),
          f.string("source"), f.time("time"));
      case COLLECTION -> collection(f);
      case VERTEX -> {
        EntityId id = f.id("id");
        yield new Vertex(new VertexDoc(id, f.nullableString("name"), f.string("project"), f.doc("doc"),
            f.time("create_time"), f.time("update_time"), f.string("creator")));
      }
      case EDGE -> new Edge(new EdgeDoc(f.id("id"), f.id("from"), f.id("to"), f.doc("doc"), f.time("create_time"),
          f.string("creator")));
      case HISTORY -> new History(new HistoryRecord(0, f.id("id"), f.time("time"), f.string("actor"),
          f.string("action"), f.doc("changes")));
      case REQUEST -> new Request(new RequestRecord(f.requestId("request_id"), f.nonEmpty("operation"),
          f.string("fingerprint"), f.string("result"), f.time("create_time")));
      case END -> new End(f.counts("counts"));
    };
    f.noOthers(kind);
    return e;
  }

  private static Definition collection(Fields f) {
    String name = f.collectionName("name");
    String type = f.string("type");
    CollectionDef.Kind kind = switch (type) {
      case "vertex" -> CollectionDef.Kind.VERTEX;
      case "edge" -> CollectionDef.Kind.EDGE;
      default -> throw f.bad("type", "must be \"vertex\" or \"edge\" (got \"" + printable(type) + "\")");
    };
    boolean builtin = f.bool("builtin");
    String flowName = f.string("flow");
    CollectionDef.Flow flow = switch (flowName) {
      case "forward" -> CollectionDef.Flow.FORWARD;
      case "reverse" -> CollectionDef.Flow.REVERSE;
      default -> throw f.bad("flow", "must be \"forward\" or \"reverse\" (got \"" + printable(flowName) + "\")");
    };
    List<String> from = f.typeList("from_types");
    List<String> to = f.typeList("to_types");
    if (HIDDEN.contains(name) && (kind != CollectionDef.Kind.VERTEX || !builtin)) {
      throw f.bad("type", "\"" + name + "\" holds accounts: it is a built-in vertex collection");
    }
    if (kind == CollectionDef.Kind.VERTEX && (!from.isEmpty() || !to.isEmpty())) {
      throw f.bad("from_types", "a vertex collection has no from_types or to_types");
    }
    return new Definition(new CollectionDef(name, kind, builtin, flow, from, to));
  }

  /** The hidden collections that hold accounts: the only names outside the type-name rule. */
  static final Set<String> HIDDEN = Set.of(Accounts.USERS, Accounts.TOKENS);

  static boolean isCollectionName(String s) {
    return HIDDEN.contains(s) || Validate.TYPE_NAME.matcher(s).matches();
  }

  private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
  private static final Instant MIN_TIME = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant MAX_TIME = Instant.parse("9999-12-31T23:59:59.999999Z");

  /** Typed access to a line's fields, remembering which were read. */
  private static final class Fields {
    final long line;
    final Map<String, Object> m;
    final Set<String> seen = new java.util.HashSet<>();

    Fields(long line, Map<String, Object> m) {
      this.line = line;
      this.m = m;
    }

    FormatException bad(String field, String rule) {
      return new FormatException(line, "field \"" + field + "\": " + rule);
    }

    Object get(String field) {
      seen.add(field);
      if (!m.containsKey(field)) {
        throw bad(field, "is missing");
      }
      return m.get(field);
    }

    String string(String field) {
      if (get(field) instanceof String s) {
        return s;
      }
      throw bad(field, "must be a string");
    }

    String nonEmpty(String field) {
      String s = string(field);
      if (s.isEmpty()) {
        throw bad(field, "must not be empty");
      }
      return s;
    }

    String nullableString(String field) {
      Object v = get(field);
      if (v == null || v instanceof String) {
        return (String) v;
      }
      throw bad(field, "must be a string or null");
    }

    boolean bool(String field) {
      if (get(field) instanceof Boolean b) {
        return b;
      }
      throw bad(field, "must be true or false");
    }

    long number(String field) {
      if (get(field) instanceof Long n) {
        return n;
      }
      throw bad(field, "must be an integer");
    }

    Instant time(String field) {
      String s = string(field);
      Instant t;
      try {
        t = OffsetDateTime.parse(s, RFC3339).toInstant();
      } catch (DateTimeParseException e) {
        throw bad(field, "must be an RFC 3339 time such as 2024-06-01T10:00:00.000000Z (got \"" + printable(s)
            + "\")");
      }
      if (t.isBefore(MIN_TIME) || t.isAfter(MAX_TIME)) {
        throw bad(field, "must be between the years 1 and 9999 (got \"" + printable(s) + "\")");
      }
      if (t.getNano() % 1000 != 0) {
        throw bad(field, "must have at most microsecond precision (got \"" + printable(s) + "\")");
      }
      return t;
    }

    EntityId id(String field) {
      String s = string(field);
      int slash = s.indexOf('/');
      if (slash < 0 || !isCollectionName(s.substring(0, slash))
          || !Validate.KEY.matcher(s.substring(slash + 1)).matches()) {
        throw bad(field, "must be an id collection/key with a valid type name and key (got \"" + printable(s)
            + "\")");
      }
      return new EntityId(s.substring(0, slash), s.substring(slash + 1));
    }

    String collectionName(String field) {
      String s = string(field);
      if (!isCollectionName(s)) {
        throw bad(field, "must be a type name: 1-64 letters, digits, \"_\" and \"-\", starting with a letter"
            + " (got \"" + printable(s) + "\")");
      }
      return s;
    }

    List<String> typeList(String field) {
      if (!(get(field) instanceof List<?> l)) {
        throw bad(field, "must be a list of type names");
      }
      for (Object o : l) {
        if (!(o instanceof String s) || !Validate.TYPE_NAME.matcher(s).matches()) {
          throw bad(field, "must be a list of type names (got " + printable(String.valueOf(o)) + ")");
        }
      }
      return l.stream().map(String.class::cast).toList();
    }

    String requestId(String field) {
      String s = nonEmpty(field);
      if (s.length() > 1024) {
        throw bad(field, "must be at most 1024 characters");
      }
      return s;
    }

    Map<String, Object> doc(String field) {
      if (get(field) instanceof Map<?, ?> d) {
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) d;
        return doc;
      }
      throw bad(field, "must be a JSON object");
    }

    Map<Kind, Long> counts(String field) {
      Map<String, Object> c = doc(field);
      Map<Kind, Long> out = new EnumMap<>(Kind.class);
      for (Kind k : Kind.DATA) {
        if (!(c.get(k.label()) instanceof Long n) || n < 0) {
          throw bad(field, "must have a non-negative integer count for \"" + k.label() + "\"");
        }
        out.put(k, n);
      }
      for (String k : c.keySet()) {
        if (Kind.DATA.stream().noneMatch(d -> d.label().equals(k))) {
          throw bad(field, "has an unknown kind \"" + printable(k) + "\"");
        }
      }
      return out;
    }

    void noOthers(Kind kind) {
      for (String k : m.keySet()) {
        if (!seen.contains(k)) {
          throw new FormatException(line, "field \"" + printable(k) + "\": not a field of a " + kind.label()
              + " line");
        }
      }
    }
  }

  /** A value for a message: at most 80 characters, control characters escaped. */
  static String printable(String value) {
    return io.arangopipe.server.core.Validate.printable(value);
  }
}
