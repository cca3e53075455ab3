package io.arangopipe.server.api;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import io.arangopipe.server.core.Principal;
import io.arangopipe.server.core.Validate;
import io.arangopipe.server.core.Views.Idempotency;
import io.arangopipe.server.store.Sha256;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.function.Supplier;

/** What every RPC adapter does the same way: answer or map the failure, and build idempotency keys. */
final class Calls {
  /** Who made the call: set by {@link AuthInterceptor} from the bearer token; anonymous when auth is off. */
  static final Context.Key<Principal> PRINCIPAL = Context.keyWithDefault("arangopipe-principal",
      Principal.ANONYMOUS);

  private Calls() {}

  static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
    if (Context.current().isCancelled()) {
      observer.onError(Status.CANCELLED.withDescription("the call was cancelled before it started")
          .asRuntimeException());
      return;
    }
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      fail(observer, Context.current(), e);
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  private static void fail(StreamObserver<?> observer, Context context, Throwable e) {
    if (context.isCancelled()) {
      // The client is gone (it cancelled, or its deadline passed) and the store stopped its work: that is
      // what the call ended with, not the store's "cancelled" failure, which would count as UNAVAILABLE.
      Status why = Contexts.statusFromCancelled(context);
      observer.onError((why == null ? Status.CANCELLED : why).withDescription("the call was cancelled or ran out of"
          + " time; its work was stopped").asRuntimeException());
      return;
    }
    observer.onError(StatusMapper.toStatus(e));
  }

  /**
   * {@link #unary} for a call whose work finishes later (a durable write): the RPC thread is free while
   * the write waits for its group commit. The answer is built by {@code answer} and sent on
   * {@code executor}, never on the store's writer thread.
   */
  static <R, T> void unaryAsync(StreamObserver<T> observer, Supplier<java.util.concurrent.CompletableFuture<R>> call,
      java.util.function.Function<R, T> answer, java.util.concurrent.Executor executor) {
    if (Context.current().isCancelled()) {
      observer.onError(Status.CANCELLED.withDescription("the call was cancelled before it started")
          .asRuntimeException());
      return;
    }
    Context context = Context.current(); // the answer is sent from another thread, outside the call's context
    java.util.concurrent.CompletableFuture<R> pending;
    try {
      pending = call.get();
    } catch (RuntimeException e) {
      fail(observer, context, e);
      return;
    }
    java.util.concurrent.Executor orHere = task -> {
      try {
        executor.execute(task);
      } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
        task.run(); // the executor stopped (shutdown): answer on this thread rather than never
      }
    };
    pending.whenCompleteAsync((result, failure) -> {
      T response;
      try {
        if (failure != null) {
          throw failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
        }
        response = answer.apply(result);
      } catch (Throwable t) {
        fail(observer, context, t);
        return;
      }
      observer.onNext(response);
      observer.onCompleted();
    }, orHere);
  }

  static Principal who() {
    return PRINCIPAL.get();
  }

  /**
   * The idempotency key of a write: its request id (or {@code null} when the caller sent none), the
   * method, and a fingerprint of the request without its request id.
   */
  static Idempotency idempotency(String method, String requestId, Message withoutRequestId) {
    String id = Validate.requestId("request_id", requestId);
    if (id == null) {
      return null;
    }
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      withoutRequestId.writeTo(out);
      out.flush();
      return new Idempotency(id, method, HexFormat.of().formatHex(Sha256.digest(bytes.toByteArray())));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
