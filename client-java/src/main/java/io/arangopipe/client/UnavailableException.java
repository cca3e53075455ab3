package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** UNAVAILABLE: the server could not be reached or is shutting down; the client retries it under its retry policy. */
public class UnavailableException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public UnavailableException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.UNAVAILABLE, description, details, cause);
  }
}
