package io.arangopipe.server.store;

/** The database cannot serve the call now (I/O error, disk full, closed, unreachable). Nothing was written. */
public final class UnavailableException extends StoreException {
  private static final long serialVersionUID = 1L;

  public UnavailableException(String message) {
    super(message);
  }

  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
