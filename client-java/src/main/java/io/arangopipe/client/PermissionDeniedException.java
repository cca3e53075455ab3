package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** PERMISSION_DENIED: the caller is authenticated but may not do this. */
public class PermissionDeniedException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.PERMISSION_DENIED, description, details, cause);
  }
}
