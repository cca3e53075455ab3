package io.arangopipe.server.store.arangodb;

import io.arangopipe.server.store.EdgeDoc;
import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.Json;
import io.arangopipe.server.store.VertexDoc;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the store's records live in ArangoDB documents, and logical collection names vs. physical ones.
 *
 * <p>A vertex is the user's document at the top level (as the seed library writes it), plus one object
 * attribute {@code arangopipe} with the system fields: {@code name}, {@code project}, {@code create_time}
 * and {@code update_time} (microseconds since the epoch, numbers), {@code creator}. Top-level user
 * attributes that ArangoDB reserves (names starting with {@code _}, the empty name) or that would hide
 * the system object ({@code arangopipe}) are kept under {@code arangopipe.reserved} and put back on read.
 * A document without {@code arangopipe} (written by the seed library) reads with its top-level {@code
 * name} as the name, no project, the epoch as its times and an empty creator.
 *
 * <p>Collections: a logical collection is the ArangoDB collection of the same name, except hidden ones
 * (names starting with {@code _}, e.g. the accounts' {@code _users}), which ArangoDB reserves for system
 * collections: {@code _x} lives in {@code arangopipe_x}. The store's own bookkeeping lives in {@code
 * arangopipe_collections}, {@code arangopipe_history}, {@code arangopipe_requests} and {@code
 * arangopipe_meta}; names starting with {@code arangopipe_} are therefore not available as types.
 */
final class Layout {
  static final String SYSTEM = "arangopipe";
  static final String RESERVED = "reserved";
  static final String PREFIX = "arangopipe_";

  static final String DEFS = "arangopipe_collections";
  static final String HISTORY = "arangopipe_history";
  static final String REQUESTS = "arangopipe_requests";
  static final String META = "arangopipe_meta";
  static final List<String> BOOKKEEPING = List.of(DEFS, HISTORY, REQUESTS, META);

  /** The counter document of history sequence numbers in {@link #META}. */
  static final String HISTORY_SEQ = "history_seq";

  private static final Set<String> ARANGO_SYSTEM_ATTRIBUTES = Set.of("_key", "_id", "_rev", "_from", "_to");

  private Layout() {}

  /** The ArangoDB collection that holds a logical collection. */
  static String physical(String logical) {
    return logical.startsWith("_") ? PREFIX + logical.substring(1) : logical;
  }

  /** The logical collection a physical one holds. */
  static String logical(String physical) {
    if (physical.startsWith(PREFIX) && !BOOKKEEPING.contains(physical)) {
      return "_" + physical.substring(PREFIX.length());
    }
    return physical;
  }

  /** Whether a logical name would clash with the store's own collections. */
  static boolean reservedName(String logical) {
    return logical.startsWith(PREFIX);
  }

  /** Whether a top-level user attribute must be kept under {@code arangopipe.reserved}. */
  static boolean reservedAttribute(String name) {
    return name.isEmpty() || name.startsWith("_") || name.equals(SYSTEM);
  }

  /** The physical attribute path of a path into the user's document. */
  static List<String> docPath(List<String> path) {
    if (!reservedAttribute(path.get(0))) {
      return path;
    }
    List<String> out = new ArrayList<>(path.size() + 2);
    out.add(SYSTEM);
    out.add(RESERVED);
    out.addAll(path);
    return out;
  }

  static String physicalId(EntityId id) {
    return physical(id.collection()) + "/" + id.key();
  }

  static EntityId logicalId(String physicalId) {
    EntityId p = EntityId.of(physicalId);
    return new EntityId(logical(p.collection()), p.key());
  }

  static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
  }

  static Instant instant(Object micros) {
    if (!(micros instanceof Number n)) {
      return Instant.EPOCH;
    }
    long m = n.longValue();
    return Instant.ofEpochSecond(Math.floorDiv(m, 1_000_000L), Math.floorMod(m, 1_000_000L) * 1_000L);
  }

  /** Splits a user document into its top-level attributes and the ones kept under {@code reserved}. */
  private static void split(Map<String, Object> doc, Map<String, Object> top, Map<String, Object> reserved) {
    for (Map.Entry<String, Object> e : doc.entrySet()) {
      if (reservedAttribute(e.getKey())) {
        reserved.put(e.getKey(), e.getValue());
      } else {
        top.put(e.getKey(), e.getValue());
      }
    }
  }

  /** The user attributes of a stored document (top level and reserved), normalised. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> userDoc(Map<String, Object> stored) {
    Map<String, Object> doc = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : stored.entrySet()) {
      if (!ARANGO_SYSTEM_ATTRIBUTES.contains(e.getKey()) && !e.getKey().equals(SYSTEM)) {
        doc.put(e.getKey(), Json.normalize(e.getValue()));
      }
    }
    if (stored.get(SYSTEM) instanceof Map<?, ?> sys && sys.get(RESERVED) instanceof Map<?, ?> res) {
      for (Map.Entry<?, ?> e : res.entrySet()) {
        doc.put((String) e.getKey(), Json.normalize(e.getValue()));
      }
    }
    return doc;
  }

  /** The document of a vertex, without {@code _key}. */
  static Map<String, Object> vertexDocument(VertexDoc v) {
    Map<String, Object> top = new LinkedHashMap<>();
    Map<String, Object> reserved = new LinkedHashMap<>();
    split(v.doc(), top, reserved);
    top.put(SYSTEM, system(v, reserved));
    return top;
  }

  /** The user attributes of a vertex as stored at the top level (what a replace writes). */
  static Map<String, Object> topLevel(Map<String, Object> userDoc) {
    Map<String, Object> top = new LinkedHashMap<>();
    split(userDoc, top, new LinkedHashMap<>());
    return top;
  }

  /** The reserved attributes of a user document, or null when there are none. */
  static Map<String, Object> reserved(Map<String, Object> userDoc) {
    Map<String, Object> reserved = new LinkedHashMap<>();
    split(userDoc, new LinkedHashMap<>(), reserved);
    return reserved.isEmpty() ? null : reserved;
  }

  static Map<String, Object> system(VertexDoc v, Map<String, Object> reserved) {
    Map<String, Object> sys = new LinkedHashMap<>();
    sys.put("name", v.name());
    sys.put("project", v.project());
    sys.put("create_time", micros(v.createTime()));
    sys.put("update_time", micros(v.updateTime()));
    sys.put("creator", v.creator());
    if (reserved != null && !reserved.isEmpty()) {
      sys.put(RESERVED, reserved);
    }
    return sys;
  }

  static VertexDoc vertex(String logicalCollection, Map<String, Object> stored) {
    String key = (String) stored.get("_key");
    Map<String, Object> doc = userDoc(stored);
    if (stored.get(SYSTEM) instanceof Map<?, ?> sys) {
      Object name = sys.get("name");
      Object project = sys.get("project");
      Object creator = sys.get("creator");
      return new VertexDoc(new EntityId(logicalCollection, key), name instanceof String s ? s : null,
          project instanceof String p ? p : "", doc, instant(sys.get("create_time")), instant(sys.get("update_time")),
          creator instanceof String c ? c : "");
    }
    // Written by the seed library: its name attribute is the name.
    Object name = stored.get("name");
    return new VertexDoc(new EntityId(logicalCollection, key), name instanceof String s ? s : null, "", doc,
        Instant.EPOCH, Instant.EPOCH, "");
  }

  static Map<String, Object> edgeDocument(EdgeDoc e) {
    Map<String, Object> top = new LinkedHashMap<>();
    Map<String, Object> reserved = new LinkedHashMap<>();
    split(e.doc(), top, reserved);
    Map<String, Object> sys = new LinkedHashMap<>();
    sys.put("create_time", micros(e.createTime()));
    sys.put("creator", e.creator());
    if (!reserved.isEmpty()) {
      sys.put(RESERVED, reserved);
    }
    top.put(SYSTEM, sys);
    top.put("_key", e.id().key());
    top.put("_from", physicalId(e.from()));
    top.put("_to", physicalId(e.to()));
    return top;
  }

  static EdgeDoc edge(String logicalCollection, Map<String, Object> stored) {
    Instant created = Instant.EPOCH;
    String creator = "";
    if (stored.get(SYSTEM) instanceof Map<?, ?> sys) {
      created = instant(sys.get("create_time"));
      creator = sys.get("creator") instanceof String c ? c : "";
    }
    return new EdgeDoc(new EntityId(logicalCollection, (String) stored.get("_key")),
        logicalId((String) stored.get("_from")), logicalId((String) stored.get("_to")), userDoc(stored), created,
        creator);
  }
}
