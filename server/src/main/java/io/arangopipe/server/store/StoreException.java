package io.arangopipe.server.store;

/**
 * The family of failures that store and core operations report. Each subclass maps to one gRPC status
 * code in the api layer; anything else that escapes is a bug (INTERNAL).
 */
public abstract sealed class StoreException extends RuntimeException
    permits InvalidArgumentException,
        NotFoundException,
        AlreadyExistsException,
        FailedPreconditionException,
        AbortedException,
        UnavailableException,
        ResourceExhaustedException,
        PermissionDeniedException,
        UnauthenticatedException {

  private static final long serialVersionUID = 1L;

  protected StoreException(String message) {
    super(message);
  }

  protected StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
