package io.arangopipe.server.store.arangodb;

import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.GraphStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;

/** The store contract on a real ArangoDB server (see {@link ArangoTestDatabase}); skipped without one. */
class ArangoStoreTest extends GraphStoreContract {
  private final ArangoTestDatabase database = new ArangoTestDatabase();

  @Override
  protected GraphStore open(Path dir) {
    // Here rather than in @BeforeAll, so that the report counts every test as skipped.
    ArangoTestDatabase.assumeConfigured();
    return database.open();
  }

  @AfterEach
  void dropDatabase() {
    if (store != null) {
      store.close();
      database.drop();
    }
  }
}
