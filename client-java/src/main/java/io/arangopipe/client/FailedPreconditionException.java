package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** FAILED_PRECONDITION: the system is not in a state that allows the call; {@link #reason()} says why (e.g. {@code DEPLOYMENT_ARCHIVED}). */
public class FailedPreconditionException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public FailedPreconditionException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.FAILED_PRECONDITION, description, details, cause);
  }
}
