package io.arangopipe.server.core;

import io.arangopipe.server.store.EntityId;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The input rules. Every method names the request field in the exception it throws, so a caller reads
 * exactly which field broke which rule.
 */
public final class Validate {

  /** ArangoDB's document key rules, so every key we accept is valid in both stores. */
  public static final Pattern KEY = Pattern.compile("[A-Za-z0-9_\\-.@()+,=;$!*'%:]{1,254}");
  /** Type (collection) names: ArangoDB's traditional rules, shorter. */
  public static final Pattern TYPE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_\\-]{0,63}");
  /** Project names. */
  static final Pattern PROJECT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_\\-.:@ ]{0,127}");

  static final int MAX_NAME = 256;
  static final int MAX_TAG = 256;
  static final int MAX_REQUEST_ID = 128;
  static final int MAX_PATH_SEGMENTS = 16;
  /** A document's size as compact JSON. */
  public static final int MAX_DOCUMENT_BYTES = 1 << 20;
  /** A document's nesting depth (objects and lists). */
  public static final int MAX_DOCUMENT_DEPTH = 32;

  private Validate() {}

  static InvalidArgumentException invalid(String field, String rule) {
    return new InvalidArgumentException(field, rule);
  }

  static String required(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw invalid(field, "is required");
    }
    return value;
  }

  /** A dataset, featureset, model or custom vertex name: 1-256 characters, no control characters. */
  static String name(String field, String value) {
    required(field, value);
    if (value.length() > MAX_NAME) {
      throw invalid(field, "must be at most " + MAX_NAME + " characters (got " + value.length() + ")");
    }
    if (!value.strip().equals(value)) {
      throw invalid(field, "must not start or end with white space");
    }
    noControl(field, value);
    return value;
  }

  static String projectName(String field, String value) {
    required(field, value);
    if (!PROJECT_NAME.matcher(value).matches()) {
      throw invalid(field, "must be 1-128 characters of letters, digits and \"_-.:@ \", starting with a letter or"
          + " digit (got \"" + printable(value) + "\")");
    }
    return value;
  }

  /** An optional project reference: empty means none. */
  static String optionalProject(String field, String value) {
    return value == null || value.isEmpty() ? "" : projectName(field, value);
  }

  static String tag(String field, String value) {
    if (value == null || value.isEmpty()) {
      return "";
    }
    if (value.length() > MAX_TAG) {
      throw invalid(field, "must be at most " + MAX_TAG + " characters");
    }
    noControl(field, value);
    return value;
  }

  static String key(String field, String value) {
    required(field, value);
    if (!KEY.matcher(value).matches()) {
      throw invalid(field, "must be 1-254 characters of A-Z a-z 0-9 and _-.@()+,=;$!*'%: (got \""
          + printable(value) + "\")");
    }
    return value;
  }

  static String typeName(String field, String value) {
    required(field, value);
    if (!TYPE_NAME.matcher(value).matches()) {
      throw invalid(field, "must be 1-64 characters of letters, digits, \"_\" and \"-\", starting with a letter"
          + " (got \"" + printable(value) + "\")");
    }
    return value;
  }

  /** A {@code collection/key} id. */
  static EntityId id(String field, String value) {
    required(field, value);
    int slash = value.indexOf('/');
    if (slash < 0) {
      throw invalid(field, "must be an id of the form collection/key (got \"" + printable(value) + "\")");
    }
    String collection = value.substring(0, slash);
    String key = value.substring(slash + 1);
    if (!TYPE_NAME.matcher(collection).matches() || !KEY.matcher(key).matches()) {
      throw invalid(field, "must be an id of the form collection/key with a valid type name and key (got \""
          + printable(value) + "\")");
    }
    return new EntityId(collection, key);
  }

  /** An id that must also be of the given collection. */
  static EntityId idOf(String field, String value, String collection) {
    EntityId id = id(field, value);
    if (!id.collection().equals(collection)) {
      throw invalid(field, "must be an id in " + collection + " (got \"" + printable(value) + "\")");
    }
    return id;
  }

  public static String requestId(String field, String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    if (value.length() > MAX_REQUEST_ID) {
      throw invalid(field, "must be at most " + MAX_REQUEST_ID + " characters");
    }
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      if (ch < 0x21 || ch > 0x7e) {
        throw invalid(field, "must be printable ASCII without spaces");
      }
    }
    return value;
  }

  /**
   * Parses an attribute path: segments separated by dots; a segment in double quotes may hold dots and
   * spaces ({@code "fixed acidity".mean}).
   */
  static List<String> attributePath(String field, String value) {
    required(field, value);
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = value.length();
    while (true) {
      if (i >= n) {
        throw invalid(field, "must not end with \".\" (at position " + i + ")");
      }
      String seg;
      if (value.charAt(i) == '"') {
        int close = value.indexOf('"', i + 1);
        if (close < 0) {
          throw invalid(field, "has an unclosed quote at position " + i);
        }
        seg = value.substring(i + 1, close);
        i = close + 1;
      } else {
        int dot = value.indexOf('.', i);
        int end = dot < 0 ? n : dot;
        seg = value.substring(i, end);
        if (seg.indexOf('"') >= 0) {
          throw invalid(field, "has a quote inside an unquoted name at position " + (i + seg.indexOf('"')));
        }
        i = end;
      }
      if (seg.isEmpty()) {
        throw invalid(field, "has an empty attribute name at position " + i);
      }
      if (seg.indexOf('\\') >= 0) {
        throw invalid(field, "attribute names must not contain backslashes");
      }
      noControl(field, seg);
      out.add(seg);
      if (out.size() > MAX_PATH_SEGMENTS) {
        throw invalid(field, "must have at most " + MAX_PATH_SEGMENTS + " segments");
      }
      if (i == n) {
        return out;
      }
      if (value.charAt(i) != '.') {
        throw invalid(field, "expected \".\" at position " + i);
      }
      i++;
    }
  }

  /**
   * Checks a document's limits; returns it. The size is only measured by encoding the document when a
   * bound computed while checking its depth does not already show it is small enough (the usual case:
   * encoding every document just to measure it was a visible share of a streamed record's cost).
   */
  static Map<String, Object> document(String field, Map<String, Object> doc) {
    long bound = depthAndSizeBound(field, doc, 1);
    if (bound > MAX_DOCUMENT_BYTES) {
      int size = Json.write(doc).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      if (size > MAX_DOCUMENT_BYTES) {
        throw invalid(field, "must be at most " + MAX_DOCUMENT_BYTES + " bytes as JSON (got " + size + ")");
      }
    }
    return doc;
  }

  /** A size bound for values whose JSON length this class does not know: forces the exact measurement. */
  private static final long UNKNOWN_SIZE = MAX_DOCUMENT_BYTES + 1L;

  /**
   * Checks the nesting depth, and returns an upper bound of {@code v}'s size as UTF-8 JSON: a string
   * takes at most 6 bytes per UTF-16 char (a backslash, "u" and four hex digits; UTF-8 needs at most 3),
   * an integer 20, a floating-point number 32, and the punctuation is counted generously.
   */
  static long depthAndSizeBound(String field, Object v, int level) {
    if (level > MAX_DOCUMENT_DEPTH) {
      throw invalid(field, "must be nested at most " + MAX_DOCUMENT_DEPTH + " levels deep");
    }
    if (v == null) {
      return 4;
    } else if (v instanceof Boolean) {
      return 5;
    } else if (v instanceof String str) {
      return 2 + 6L * str.length();
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return 20;
    } else if (v instanceof Double || v instanceof Float) {
      return 32;
    } else if (v instanceof Map<?, ?> m) {
      long n = 2;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        Object key = e.getKey();
        n += (key instanceof String k ? 2 + 6L * k.length() : UNKNOWN_SIZE) + 2
            + depthAndSizeBound(field, e.getValue(), level + 1);
      }
      return n;
    } else if (v instanceof List<?> l) {
      long n = 2;
      for (Object o : l) {
        n += 1 + depthAndSizeBound(field, o, level + 1);
      }
      return n;
    }
    return UNKNOWN_SIZE;
  }

  private static void noControl(String field, String value) {
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw invalid(field, "must not contain control characters (at position " + i + ")");
      }
    }
  }

  /** The value, shortened and with control characters escaped, for messages. */
  public static String printable(String value) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < value.length() && b.length() < 80; i++) {
      char ch = value.charAt(i);
      if (Character.isISOControl(ch)) {
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    if (b.length() >= 80) {
      b.append("...");
    }
    return b.toString();
  }
}
