package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** INVALID_ARGUMENT: the request breaks a rule; {@link #fieldViolations()} names the fields. */
public class InvalidArgumentException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public InvalidArgumentException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.INVALID_ARGUMENT, description, details, cause);
  }
}
