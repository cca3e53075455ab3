package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/**
 * ALREADY_EXISTS: an entity with that name (or key) exists with other content. {@link #existingId()} is the
 * id of the existing entity, from the ErrorInfo metadata {@code existing_id}.
 */
public class AlreadyExistsException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public AlreadyExistsException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.ALREADY_EXISTS, description, details, cause);
  }

  /** The id ("collection/key") of the entity that exists, or {@code null} if the server did not say. */
  public String existingId() {
    return metadata().get("existing_id");
  }
}
