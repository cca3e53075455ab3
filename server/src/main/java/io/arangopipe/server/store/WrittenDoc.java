package io.arangopipe.server.store;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A document together with its JSON text, written once by whoever builds it. {@link Json#write} returns the
 * text instead of writing the map again, so a write path can build its documents on the caller's thread
 * and leave the store's single writer thread only the binding of the text. Otherwise an ordinary
 * unmodifiable document: equal to any map with the same entries.
 */
public final class WrittenDoc extends AbstractMap<String, Object> {

  private final Map<String, Object> doc;
  private final String json;

  private WrittenDoc(Map<String, Object> doc, String json) {
    this.doc = doc;
    this.json = json;
  }

  /** Copies the document (values as in {@link VertexDoc#doc}) and writes its JSON text. */
  public static WrittenDoc of(Map<String, Object> doc) {
    Map<String, Object> copy = Collections.unmodifiableMap(new LinkedHashMap<>(doc));
    return new WrittenDoc(copy, Json.write(copy));
  }

  /** The JSON text, exactly as {@link Json#write} prints the document. */
  public String json() {
    return json;
  }

  @Override
  public Set<Entry<String, Object>> entrySet() {
    return doc.entrySet();
  }

  @Override
  public Object get(Object key) {
    return doc.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return doc.containsKey(key);
  }

  @Override
  public int size() {
    return doc.size();
  }
}
