package io.arangopipe.server;

import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.UnavailableException;
import io.arangopipe.server.store.sqlite.DataFolderInUseException;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/** Opening the store for {@code export} and {@code import}, with errors that say what to do. */
final class TransferSupport {
  private TransferSupport() {}

  /** A failure already explained for the user, with the exit status to end with. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    Failure(String message, int exitCode) {
      super(message);
      this.exitCode = exitCode;
    }

    int exitCode() {
      return exitCode;
    }
  }

  static GraphStore open(ServerConfig config, boolean mustExist, String command) {
    try {
      return mustExist ? Stores.openExisting(config, new CompositeMeterRegistry())
          : Stores.open(config, new CompositeMeterRegistry(), io.arangopipe.server.store.Cancellation.NEVER);
    } catch (DataFolderInUseException e) {
      throw new Failure("the data folder " + e.dataDir() + " is in use by a running Arangopipe server (or another"
          + " export or import). Stop the server (Ctrl-C, or SIGTERM to its process), then run " + command
          + " again; the embedded store can only be " + (command.equals("export") ? "exported" : "imported into")
          + " while no server has it open", 1);
    } catch (IllegalArgumentException e) {
      throw new Failure(e.getMessage(), 2);
    } catch (IllegalStateException | UnavailableException e) {
      throw new Failure(e.getMessage(), 1);
    }
  }
}
