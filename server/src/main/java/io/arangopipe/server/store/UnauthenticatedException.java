package io.arangopipe.server.store;

/** The call carries no valid credentials. */
public final class UnauthenticatedException extends StoreException {
  private static final long serialVersionUID = 1L;

  public UnauthenticatedException(String message) {
    super(message);
  }
}
