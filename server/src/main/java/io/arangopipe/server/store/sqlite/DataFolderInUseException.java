package io.arangopipe.server.store.sqlite;

import java.nio.file.Path;

/** Another process (a running server, an export or an import) holds the data folder's lock. */
public final class DataFolderInUseException extends IllegalStateException {
  private static final long serialVersionUID = 1L;
  private final transient Path dataDir;

  DataFolderInUseException(Path dataDir) {
    super("another Arangopipe server is using the data folder " + dataDir
        + "; stop it, or start this one with another --data-dir");
    this.dataDir = dataDir;
  }

  /** The folder, absolute. */
  public Path dataDir() {
    return dataDir;
  }
}
