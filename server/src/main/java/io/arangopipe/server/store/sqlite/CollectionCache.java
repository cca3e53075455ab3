package io.arangopipe.server.store.sqlite;

import io.arangopipe.server.store.CollectionDef;
import java.util.HashMap;
import java.util.Map;

/**
 * The writer connection's copy of the collection definitions it has read, so that each insert does not
 * read its collection's row again. Only the writer thread uses it, and only the writer changes
 * definitions: {@link SqliteTx#putCollection} and {@link SqliteTx#dropCollection} clear it, and so does
 * every rollback (of a unit's savepoint or of a whole batch), so it never holds a definition that was
 * not committed or that a rolled-back unit changed.
 */
final class CollectionCache {
  private final Map<String, CollectionDef> defs = new HashMap<>();

  CollectionDef get(String name) {
    return defs.get(name);
  }

  void put(CollectionDef def) {
    defs.put(def.name(), def);
  }

  void clear() {
    defs.clear();
  }
}
