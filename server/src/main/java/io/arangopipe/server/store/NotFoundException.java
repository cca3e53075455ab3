package io.arangopipe.server.store;

/** The entity, type or project that a request names does not exist. */
public final class NotFoundException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String resource;

  /**
   * @param resource what was looked for, e.g. {@code datasets/abc} or {@code project "churn"}
   * @param message the whole message
   */
  public NotFoundException(String resource, String message) {
    super(message);
    this.resource = resource;
  }

  public String resource() {
    return resource;
  }
}
