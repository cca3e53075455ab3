package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** NOT_FOUND: an entity, type, project or deployment the request names does not exist. */
public class NotFoundException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.NOT_FOUND, description, details, cause);
  }
}
