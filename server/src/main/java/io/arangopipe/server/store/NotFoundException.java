package io.arangopipe.server.store;

/** The entity, type or project that a request names does not exist. */
public final class NotFoundException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String resource;
  private final String reason;

  /**
   * @param resource what was looked for, e.g. {@code datasets/abc} or {@code project "churn"}
   * @param message the whole message
   */
  public NotFoundException(String resource, String message) {
    this(resource, message, "NOT_FOUND");
  }

  /** With a more specific reason than NOT_FOUND, e.g. {@code TYPE_NOT_FOUND}. */
  public NotFoundException(String resource, String message, String reason) {
    super(message);
    this.resource = resource;
    this.reason = reason;
  }

  /** A stable UPPER_SNAKE_CASE reason for the ErrorInfo detail. */
  public String reason() {
    return reason;
  }

  public String resource() {
    return resource;
  }
}
