package io.arangopipe.server.store;

/**
 * The store is out of a resource that only an operator can give back, e.g. the disk holding the database
 * is full. Nothing was written; the same call can succeed once the resource is back, without a restart.
 */
public final class ResourceExhaustedException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  /** @param reason a stable ErrorInfo reason, e.g. {@code STORE_FULL} */
  public ResourceExhaustedException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
