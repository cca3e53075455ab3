package io.arangopipe.server.store;

/** The caller is authenticated but may not do this to this project. */
public final class PermissionDeniedException extends StoreException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedException(String message) {
    super(message);
  }
}
