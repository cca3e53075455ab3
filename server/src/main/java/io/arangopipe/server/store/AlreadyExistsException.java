package io.arangopipe.server.store;

/** Something with the same key or name exists and differs from the request. */
public final class AlreadyExistsException extends StoreException {
  private static final long serialVersionUID = 1L;
  private final String existingId;

  public AlreadyExistsException(String existingId, String message) {
    super(message);
    this.existingId = existingId;
  }

  /** The id of the entity that is in the way. */
  public String existingId() {
    return existingId;
  }
}
