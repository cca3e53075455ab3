package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/**
 * RESOURCE_EXHAUSTED: a limit was reached, e.g. a message larger than the server accepts, or the disk holding the
 * server's data is full (ErrorInfo reason {@code STORE_FULL}: free space, then retry with the same request id).
 */
public class ResourceExhaustedException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public ResourceExhaustedException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.RESOURCE_EXHAUSTED, description, details, cause);
  }
}
