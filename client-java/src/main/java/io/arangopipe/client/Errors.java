package io.arangopipe.client;

import com.google.protobuf.Any;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;

/** Turns gRPC failures into {@link ArangopipeException}s: the one place that knows the mapping. */
final class Errors {
  private Errors() {}

  /** The typed exception for a failed call; an {@link ArangopipeException} is returned as it is. */
  static ArangopipeException map(Throwable t) {
    if (t instanceof ArangopipeException) {
      return (ArangopipeException) t;
    }
    Status status = Status.fromThrowable(t);
    com.google.rpc.Status proto = (t instanceof StatusRuntimeException || t instanceof StatusException)
        ? StatusProto.fromThrowable(t) : null;
    List<Any> details = proto == null ? List.of() : proto.getDetailsList();
    String description = status.getDescription() != null ? status.getDescription()
        : (proto != null ? proto.getMessage() : "");
    if (status.getCode() == Status.Code.UNKNOWN && !(t instanceof StatusRuntimeException)
        && !(t instanceof StatusException)) {
      description = t.toString();
    }
    switch (status.getCode()) {
      case INVALID_ARGUMENT:
        return new InvalidArgumentException(description, details, t);
      case NOT_FOUND:
        return new NotFoundException(description, details, t);
      case ALREADY_EXISTS:
        return new AlreadyExistsException(description, details, t);
      case FAILED_PRECONDITION:
        return new FailedPreconditionException(description, details, t);
      case ABORTED:
        return new AbortedException(description, details, t);
      case PERMISSION_DENIED:
        return new PermissionDeniedException(description, details, t);
      case UNAUTHENTICATED:
        return new UnauthenticatedException(description, details, t);
      case UNAVAILABLE:
        return new UnavailableException(description, details, t);
      case DEADLINE_EXCEEDED:
        return new DeadlineExceededException(description, details, t);
      case RESOURCE_EXHAUSTED:
        return new ResourceExhaustedException(description, details, t);
      case INTERNAL:
        return new InternalException(description, details, t);
      default:
        return new ArangopipeException(status.getCode(), description, details, t);
    }
  }
}
