package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** UNAUTHENTICATED: the call carried no valid credentials (see the builder's {@code bearerToken}). */
public class UnauthenticatedException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public UnauthenticatedException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.UNAUTHENTICATED, description, details, cause);
  }
}
