package io.arangopipe.server.store;

/** A transaction lost a conflict with a concurrent one; retrying the whole call is safe. */
public final class AbortedException extends StoreException {
  private static final long serialVersionUID = 1L;

  public AbortedException(String message, Throwable cause) {
    super(message, cause);
  }
}
