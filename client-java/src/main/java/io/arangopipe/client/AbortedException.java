package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** ABORTED: the write conflicted with another one; the client retries it under its retry policy. */
public class AbortedException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public AbortedException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.ABORTED, description, details, cause);
  }
}
