package io.arangopipe.server.store.sqlite;

import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.QueryContract;
import java.nio.file.Path;

/** The query contract on the embedded store. */
class SqliteQueryTest extends QueryContract {
  @Override
  protected GraphStore open(Path dir) {
    return SqliteStore.open(dir, SqliteStore.Options.defaults());
  }
}
