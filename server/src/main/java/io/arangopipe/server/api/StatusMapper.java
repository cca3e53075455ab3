package io.arangopipe.server.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.arangopipe.server.store.AbortedException;
import io.arangopipe.server.store.AlreadyExistsException;
import io.arangopipe.server.store.FailedPreconditionException;
import io.arangopipe.server.store.InvalidArgumentException;
import io.arangopipe.server.store.NotFoundException;
import io.arangopipe.server.store.UnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses. Domain failures carry google.rpc details
 * ({@code BadRequest} field violations, {@code ErrorInfo} with a stable reason); anything else is a bug:
 * it is logged with an incident id, and the caller gets INTERNAL with that id and no stack trace.
 */
public final class StatusMapper {
  /** The ErrorInfo domain of every error this server reports. */
  public static final String DOMAIN = "arangopipe.v1";

  private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);

  private StatusMapper() {}

  public static StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException s) {
      return s;
    }
    if (t instanceof InvalidArgumentException e) {
      return build(Code.INVALID_ARGUMENT, e.getMessage(), Any.pack(BadRequest.newBuilder()
          .addFieldViolations(BadRequest.FieldViolation.newBuilder()
              .setField(clip(e.field())).setDescription(clip(e.rule())))
          .build()));
    }
    if (t instanceof NotFoundException e) {
      return build(Code.NOT_FOUND, e.getMessage(), info(e.reason(), "resource", e.resource()));
    }
    if (t instanceof AlreadyExistsException e) {
      return build(Code.ALREADY_EXISTS, e.getMessage(), info("ALREADY_EXISTS", "existing_id", e.existingId()));
    }
    if (t instanceof FailedPreconditionException e) {
      return build(Code.FAILED_PRECONDITION, e.getMessage(), info(e.reason(), null, null));
    }
    if (t instanceof AbortedException e) {
      return build(Code.ABORTED, e.getMessage() + "; retry the call", info("CONFLICT", null, null));
    }
    if (t instanceof io.arangopipe.server.store.PermissionDeniedException e) {
      return build(Code.PERMISSION_DENIED, e.getMessage(), info("PERMISSION_DENIED", null, null));
    }
    if (t instanceof io.arangopipe.server.store.UnauthenticatedException e) {
      return build(Code.UNAUTHENTICATED, e.getMessage(), info("UNAUTHENTICATED", null, null));
    }
    if (t instanceof io.arangopipe.server.store.ResourceExhaustedException e) {
      return build(Code.RESOURCE_EXHAUSTED, e.getMessage(), info(e.reason(), null, null));
    }
    if (t instanceof UnavailableException e) {
      return build(Code.UNAVAILABLE, e.getMessage(), info("STORE_UNAVAILABLE", null, null));
    }
    String incident = UUID.randomUUID().toString();
    log.error("internal error, incident {}", incident, t);
    return Status.INTERNAL.withDescription("internal error (incident " + incident
        + "); this is a bug in Arangopipe: please report it with the server log").asRuntimeException();
  }

  /**
   * The same status, with {@code accepted_batches} and {@code accepted_records} added to its ErrorInfo
   * (or a new ErrorInfo), so a streaming client knows how much was written before the failure.
   */
  public static StatusRuntimeException withProgress(StatusRuntimeException e, long batches, long records) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      s = com.google.rpc.Status.newBuilder().setCode(e.getStatus().getCode().value())
          .setMessage(String.valueOf(e.getStatus().getDescription())).build();
    }
    com.google.rpc.Status.Builder b = s.toBuilder().clearDetails();
    boolean merged = false;
    for (Any d : s.getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = d.unpack(ErrorInfo.class).toBuilder()
              .putMetadata("accepted_batches", Long.toString(batches))
              .putMetadata("accepted_records", Long.toString(records)).build();
          b.addDetails(Any.pack(info));
          merged = true;
          continue;
        } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
          // keep the detail as it was
        }
      }
      b.addDetails(d);
    }
    if (!merged) {
      b.addDetails(Any.pack(ErrorInfo.newBuilder().setReason("BATCH_REJECTED").setDomain(DOMAIN)
          .putMetadata("accepted_batches", Long.toString(batches))
          .putMetadata("accepted_records", Long.toString(records)).build()));
    }
    return StatusProto.toStatusRuntimeException(b.build());
  }

  /** Error text travels in HTTP/2 trailers, which clients cap at a few KiB: keep every piece short. */
  static final int MAX_TEXT = 1024;

  static String clip(String s) {
    return s == null || s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "... (" + s.length() + " characters)";
  }

  private static Any info(String reason, String key, String value) {
    ErrorInfo.Builder b = ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN);
    if (key != null && value != null) {
      b.putMetadata(key, clip(value));
    }
    return Any.pack(b.build());
  }

  private static StatusRuntimeException build(Code code, String message, Any detail) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(clip(message))
        .addDetails(detail)
        .build());
  }
}
