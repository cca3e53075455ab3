package io.arangopipe.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/** The mapping of gRPC statuses to typed exceptions. */
class ErrorsTest {
  private static ArangopipeException map(Status.Code code, Any... details) {
    com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder().setCode(code.value()).setMessage("msg");
    for (Any d : details) {
      s.addDetails(d);
    }
    return Errors.map(StatusProto.toStatusRuntimeException(s.build()));
  }

  @Test
  void eachCodeHasItsType() {
    assertThat(map(Status.Code.INVALID_ARGUMENT)).isInstanceOf(InvalidArgumentException.class);
    assertThat(map(Status.Code.NOT_FOUND)).isInstanceOf(NotFoundException.class);
    assertThat(map(Status.Code.ALREADY_EXISTS)).isInstanceOf(AlreadyExistsException.class);
    assertThat(map(Status.Code.FAILED_PRECONDITION)).isInstanceOf(FailedPreconditionException.class);
    assertThat(map(Status.Code.ABORTED)).isInstanceOf(AbortedException.class);
    assertThat(map(Status.Code.PERMISSION_DENIED)).isInstanceOf(PermissionDeniedException.class);
    assertThat(map(Status.Code.UNAUTHENTICATED)).isInstanceOf(UnauthenticatedException.class);
    assertThat(map(Status.Code.UNAVAILABLE)).isInstanceOf(UnavailableException.class);
    assertThat(map(Status.Code.DEADLINE_EXCEEDED)).isInstanceOf(DeadlineExceededException.class);
    assertThat(map(Status.Code.RESOURCE_EXHAUSTED)).isInstanceOf(ResourceExhaustedException.class);
    assertThat(map(Status.Code.INTERNAL)).isInstanceOf(InternalException.class);
    ArangopipeException other = map(Status.Code.OUT_OF_RANGE);
    assertThat(other.getClass()).isEqualTo(ArangopipeException.class);
    assertThat(other.code()).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(other.getMessage()).isEqualTo("OUT_OF_RANGE: msg");
  }

  @Test
  void detailsAreParsed() {
    ArangopipeException e = map(Status.Code.ALREADY_EXISTS, Any.pack(ErrorInfo.newBuilder().setReason("ALREADY_EXISTS")
        .setDomain("arangopipe.v1").putMetadata("existing_id", "datasets/1").build()));
    assertThat(((AlreadyExistsException) e).existingId()).isEqualTo("datasets/1");
    assertThat(e.reason()).isEqualTo("ALREADY_EXISTS");
    ArangopipeException bad = map(Status.Code.INVALID_ARGUMENT, Any.pack(BadRequest.newBuilder()
        .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("name").setDescription("required"))
        .build()));
    assertThat(bad.fieldViolations()).extracting(v -> v.getField()).containsExactly("name");
    assertThat(bad.reason()).isEmpty();
    assertThat(bad.metadata()).isEmpty();
    assertThat(((AlreadyExistsException) map(Status.Code.ALREADY_EXISTS)).existingId()).isNull();
  }

  @Test
  void nonGrpcFailuresAreUnknown() {
    ArangopipeException e = Errors.map(new IllegalStateException("boom"));
    assertThat(e.code()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
    assertThat(Errors.map(e)).isSameAs(e);
  }
}
