package io.arangopipe.server.api;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Turns a request that is not a valid protobuf message of the method's type (garbage bytes, a wrong
 * wire type, invalid UTF-8 in a string, nesting beyond protobuf's recursion limit) into
 * INVALID_ARGUMENT. Without it grpc-java answers such requests with UNKNOWN "Application error
 * processing RPC". It must wrap a service definition made with
 * {@link io.grpc.ServerInterceptors#useInputStreamMessages}, so that parsing happens inside
 * {@code onMessage}, where this listener catches the failure.
 */
public final class MalformedRequestInterceptor implements ServerInterceptor {

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean rejected;

      @Override
      public void onMessage(Q message) {
        if (rejected) {
          return;
        }
        try {
          super.onMessage(message);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.INTERNAL
              || !(e.getCause() instanceof com.google.protobuf.InvalidProtocolBufferException)) {
            throw e;
          }
          rejected = true;
          String type = call.getMethodDescriptor().getFullMethodName();
          StatusRuntimeException bad = io.grpc.protobuf.StatusProto.toStatusRuntimeException(
              com.google.rpc.Status.newBuilder().setCode(Status.Code.INVALID_ARGUMENT.value())
                  .setMessage("request: not a valid message for " + type + ": " + e.getCause().getMessage())
                  .addDetails(com.google.protobuf.Any.pack(com.google.rpc.BadRequest.newBuilder()
                      .addFieldViolations(com.google.rpc.BadRequest.FieldViolation.newBuilder().setField("request")
                          .setDescription("is not a valid protobuf message of the method's request type: "
                              + e.getCause().getMessage()))
                      .build()))
                  .build());
          call.close(bad.getStatus(), bad.getTrailers());
        }
      }

      @Override
      public void onHalfClose() {
        if (!rejected) {
          super.onHalfClose();
        }
      }
    };
  }
}
