package io.arangopipe.client;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Conversions between Java maps and {@code google.protobuf.Struct}, the wire form of every Arangopipe
 * document.
 *
 * <p>To a Struct: {@code null}; {@link String} and other {@link CharSequence}s; {@link Boolean};
 * finite {@link Number}s (as doubles: integers beyond 2<sup>53</sup> lose precision, as in JSON); {@link
 * Map}s with {@link String} keys; {@link Iterable}s and arrays; {@link Enum}s (by name); {@link UUID}s
 * and {@code java.time} values (by {@code toString()}, e.g. ISO-8601); and the protobuf {@link Struct},
 * {@link Value} and {@link ListValue} themselves. Anything else, and NaN or infinite numbers, is an
 * {@link IllegalArgumentException} naming the path of the bad value.
 *
 * <p>From a Struct: numbers become {@link Double}, lists {@link List}, structs {@link Map} (in the
 * order of the Struct's fields), null values {@code null}.
 */
public final class Structs {
  private Structs() {}

  /** The Struct for a map; {@code null} gives the empty Struct. */
  public static Struct toStruct(Map<String, ?> map) {
    if (map == null || map.isEmpty()) {
      return Struct.getDefaultInstance();
    }
    return toStruct(map, "");
  }

  /** The Value for one Java value. */
  public static Value toValue(Object value) {
    return toValue(value, "value");
  }

  /** A mutable map of the Struct's fields, in field order. */
  public static Map<String, Object> toMap(Struct struct) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (struct != null) {
      struct.getFieldsMap().forEach((k, v) -> out.put(k, toJava(v)));
    }
    return out;
  }

  /** The Java value of a protobuf Value (see the class comment). */
  public static Object toJava(Value value) {
    switch (value.getKindCase()) {
      case NUMBER_VALUE:
        return value.getNumberValue();
      case STRING_VALUE:
        return value.getStringValue();
      case BOOL_VALUE:
        return value.getBoolValue();
      case STRUCT_VALUE:
        return toMap(value.getStructValue());
      case LIST_VALUE:
        List<Object> list = new ArrayList<>(value.getListValue().getValuesCount());
        for (Value v : value.getListValue().getValuesList()) {
          list.add(toJava(v));
        }
        return list;
      case NULL_VALUE:
      case KIND_NOT_SET:
      default:
        return null;
    }
  }

  private static Struct toStruct(Map<?, ?> map, String path) {
    Struct.Builder b = Struct.newBuilder();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String)) {
        throw new IllegalArgumentException(where(path) + "has a key that is not a String: " + e.getKey());
      }
      String key = (String) e.getKey();
      b.putFields(key, toValue(e.getValue(), path.isEmpty() ? key : path + "." + key));
    }
    return b.build();
  }

  private static Value toValue(Object v, String path) {
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    if (v instanceof Value) {
      return (Value) v;
    }
    if (v instanceof CharSequence) {
      return Value.newBuilder().setStringValue(v.toString()).build();
    }
    if (v instanceof Number) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException(where(path) + "is " + d + "; documents hold finite numbers only");
      }
      return Value.newBuilder().setNumberValue(d).build();
    }
    if (v instanceof Boolean) {
      return Value.newBuilder().setBoolValue((Boolean) v).build();
    }
    if (v instanceof Map) {
      return Value.newBuilder().setStructValue(toStruct((Map<?, ?>) v, path)).build();
    }
    if (v instanceof Struct) {
      return Value.newBuilder().setStructValue((Struct) v).build();
    }
    if (v instanceof ListValue) {
      return Value.newBuilder().setListValue((ListValue) v).build();
    }
    if (v instanceof Iterable) {
      ListValue.Builder lb = ListValue.newBuilder();
      int i = 0;
      for (Object o : (Iterable<?>) v) {
        lb.addValues(toValue(o, path + "[" + i++ + "]"));
      }
      return Value.newBuilder().setListValue(lb).build();
    }
    if (v.getClass().isArray()) {
      return toValue(arrayToList(v), path);
    }
    if (v instanceof Enum) {
      return Value.newBuilder().setStringValue(((Enum<?>) v).name()).build();
    }
    if (v instanceof TemporalAccessor || v instanceof UUID) {
      return Value.newBuilder().setStringValue(v.toString()).build();
    }
    throw new IllegalArgumentException(where(path) + "has a value of type " + v.getClass().getName()
        + ", which a document cannot hold (use strings, numbers, booleans, maps, lists or null)");
  }

  private static List<Object> arrayToList(Object array) {
    int n = java.lang.reflect.Array.getLength(array);
    List<Object> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(java.lang.reflect.Array.get(array, i));
    }
    return Collections.unmodifiableList(out);
  }

  private static String where(String path) {
    return path.isEmpty() ? "the document " : "\"" + path + "\" ";
  }
}
