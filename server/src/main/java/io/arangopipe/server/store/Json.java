package io.arangopipe.server.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON for documents. A document is a {@code Map<String, Object>} whose values are null, Boolean, Long,
 * Double, String, List and Map only; {@link #normalize} brings any other numbers into that form (an
 * integral double becomes a Long), so that two equal documents are {@code equals} and print the same.
 */
public final class Json {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.USE_LONG_FOR_INTS)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  static {
    MAPPER.getFactory().setStreamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(1000).build());
  }

  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};
  private static final TypeReference<List<Object>> LIST = new TypeReference<>() {};

  private Json() {}

  /** Prints a value as compact JSON with object keys sorted, so equal documents print equally. */
  public static String write(Object value) {
    if (value instanceof WrittenDoc w) {
      return w.json();
    }
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not serialisable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Parses a JSON object into a normalized document. */
  public static Map<String, Object> parseObject(String json) {
    try {
      Map<String, Object> m = MAPPER.readValue(json, MAP);
      @SuppressWarnings("unchecked")
      Map<String, Object> n = (Map<String, Object>) normalize(m);
      return n;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a JSON object: " + e.getOriginalMessage(), e);
    }
  }

  /** Parses a JSON array. */
  public static List<Object> parseList(String json) {
    try {
      List<Object> l = MAPPER.readValue(json, LIST);
      @SuppressWarnings("unchecked")
      List<Object> n = (List<Object>) normalize(l);
      return n;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a JSON array: " + e.getOriginalMessage(), e);
    }
  }

  /** Returns a copy of a JSON-like value in the normalized form described above. */
  public static Object normalize(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Double || v instanceof Float) {
      return normalizeDouble(((Number) v).doubleValue());
    }
    if (v instanceof BigInteger b) {
      return b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
    }
    if (v instanceof BigDecimal d) {
      return normalizeDouble(d.doubleValue());
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.put(String.valueOf(e.getKey()), normalize(e.getValue()));
      }
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object o : l) {
        out.add(normalize(o));
      }
      return out;
    }
    throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
  }

  /** 2^53: beyond it not every integer is a double, so integral doubles stay doubles. */
  private static final double MAX_EXACT = 9007199254740992.0;

  private static Object normalizeDouble(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("NaN and infinite numbers are not JSON");
    }
    if (d == Math.rint(d) && Math.abs(d) <= MAX_EXACT && !(d == 0.0 && 1 / d < 0)) {
      return (long) d;
    }
    return d;
  }
}
