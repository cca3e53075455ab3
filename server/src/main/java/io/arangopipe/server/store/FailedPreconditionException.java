package io.arangopipe.server.store;

/**
 * The request is well-formed but the system is not in a state that allows it (e.g. no run carries the
 * deployment tag). {@code reason} is a stable UPPER_SNAKE_CASE identifier clients can act on.
 */
public final class FailedPreconditionException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String reason;

  public FailedPreconditionException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
