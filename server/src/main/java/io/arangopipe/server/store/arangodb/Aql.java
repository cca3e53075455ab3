package io.arangopipe.server.store.arangodb;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One AQL query under construction: its text and its bind parameters. Everything that comes from a
 * request becomes a bind parameter: values ({@code @v0}), collections ({@code @@c0}, checked against the
 * collection-name rule) and attribute paths (an array, {@code d.@p0}). The text holds only keywords,
 * functions and variable names written in this package.
 */
final class Aql {

  /** ArangoDB's traditional collection-name rule: a letter, then letters, digits, '_' and '-'; 256 bytes. */
  static final Pattern COLLECTION = Pattern.compile("[A-Za-z][A-Za-z0-9_\\-]{0,255}");

  private final StringBuilder text = new StringBuilder();
  private final Map<String, Object> bindVars = new LinkedHashMap<>();
  private int next;

  Aql append(String constant) {
    text.append(constant);
    return this;
  }

  /** A value parameter; returns its placeholder. */
  String value(Object v) {
    String name = "v" + next++;
    bindVars.put(name, v);
    return "@" + name;
  }

  /** An attribute-path parameter (an array of attribute names); returns its placeholder. */
  String path(List<String> segments) {
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("empty attribute path");
    }
    String name = "p" + next++;
    bindVars.put(name, List.copyOf(segments));
    return "@" + name;
  }

  /** A collection parameter for a physical collection name; returns its placeholder. */
  String collection(String physical) {
    if (!COLLECTION.matcher(physical).matches()) {
      throw new IllegalArgumentException("not a collection name: " + physical);
    }
    String name = "c" + next++;
    bindVars.put("@" + name, physical);
    return "@@" + name;
  }

  String text() {
    return text.toString();
  }

  Map<String, Object> bindVars() {
    return bindVars;
  }

  @Override
  public String toString() {
    return text + " " + bindVars;
  }
}
