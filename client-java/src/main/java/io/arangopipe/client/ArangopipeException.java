package io.arangopipe.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A call to Arangopipe failed. Carries the gRPC status code, the server's message, and the
 * {@code google.rpc} details the server attached: {@link ErrorInfo} (a stable {@link #reason()}, the
 * domain {@code arangopipe.v1} and {@link #metadata()} such as {@code existing_id}) and {@link BadRequest}
 * field violations.
 *
 * <p>Subclasses name the codes callers usually handle: {@link InvalidArgumentException}, {@link
 * NotFoundException}, {@link AlreadyExistsException}, {@link FailedPreconditionException}, {@link
 * AbortedException}, {@link PermissionDeniedException}, {@link UnauthenticatedException}, {@link
 * UnavailableException}, {@link DeadlineExceededException}, {@link ResourceExhaustedException}, {@link
 * InternalException}. Other codes arrive as this class.
 */
public class ArangopipeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String description;
  private final transient List<Any> details;
  private final transient ErrorInfo errorInfo;
  private final transient List<BadRequest.FieldViolation> fieldViolations;

  /**
   * @param code the gRPC status code
   * @param description the server's message (may be empty)
   * @param details the {@code google.rpc.Status} details (may be empty)
   * @param cause the gRPC exception
   */
  public ArangopipeException(Status.Code code, String description, List<Any> details, Throwable cause) {
    super(code + (description == null || description.isEmpty() ? "" : ": " + description), cause);
    this.code = code;
    this.description = description == null ? "" : description;
    this.details = details == null ? List.of() : List.copyOf(details);
    ErrorInfo info = null;
    List<BadRequest.FieldViolation> violations = new ArrayList<>();
    for (Any d : this.details) {
      try {
        if (info == null && d.is(ErrorInfo.class)) {
          info = d.unpack(ErrorInfo.class);
        } else if (d.is(BadRequest.class)) {
          violations.addAll(d.unpack(BadRequest.class).getFieldViolationsList());
        }
      } catch (InvalidProtocolBufferException ignored) {
        // a detail we cannot read stays available, packed, in details()
      }
    }
    this.errorInfo = info;
    this.fieldViolations = Collections.unmodifiableList(violations);
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /** The server's message, without the code; empty if there was none. */
  public String description() {
    return description;
  }

  /** Every {@code google.rpc.Status} detail, packed as the server sent it. */
  public List<Any> details() {
    return details;
  }

  /** The {@link ErrorInfo} detail, if the server sent one. */
  public Optional<ErrorInfo> errorInfo() {
    return Optional.ofNullable(errorInfo);
  }

  /** The ErrorInfo's stable reason (e.g. {@code DEPLOYMENT_ARCHIVED}); empty if there is none. */
  public String reason() {
    return errorInfo == null ? "" : errorInfo.getReason();
  }

  /** The ErrorInfo's metadata (e.g. {@code existing_id}); empty if there is none. */
  public Map<String, String> metadata() {
    return errorInfo == null ? Map.of() : errorInfo.getMetadataMap();
  }

  /** The BadRequest field violations; empty if there are none. */
  public List<BadRequest.FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /**
   * Whether trying the same call again may succeed: UNAVAILABLE (the server is unreachable or
   * restarting) and ABORTED (a write conflict; the server asks to retry).
   */
  public boolean isRetryable() {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.ABORTED;
  }
}
