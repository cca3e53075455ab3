package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import java.util.List;

/** INTERNAL: a bug in the server; its message carries an incident id to report. */
public class InternalException extends ArangopipeException {
  private static final long serialVersionUID = 1L;

  public InternalException(String description, List<Any> details, Throwable cause) {
    super(Status.Code.INTERNAL, description, details, cause);
  }
}
