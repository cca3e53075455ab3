package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** DEADLINE_EXCEEDED: the call's deadline passed before it finished; a write may or may not have happened (retry it with the same {@code request_id}). */
public class DeadlineExceededException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.DEADLINE_EXCEEDED, description, details, cause);
  }
}
