package io.arangopipe.client;

import io.arangopipe.v1.StreamServingPerfRequest;
import io.arangopipe.v1.StreamServingPerfResponse;
import io.arangopipe.v1.TrackingServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One {@code TrackingService.StreamServingPerf} call, driven by one thread: send batches as the transport
 * can take them (gRPC flow control), then half-close and wait for the server's answer. Not thread-safe
 * for senders; the gRPC callbacks only record what happened and wake the sender.
 */
final class ServingPerfCall {
  private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final ClientCall<StreamServingPerfRequest, StreamServingPerfResponse> call;
  private final Object lock = new Object();
  private final long openedNanos = System.nanoTime();
  private StreamServingPerfResponse response;
  private Status status;
  private Metadata trailers;
  private int sent;

  ServingPerfCall(Channel channel, CallOptions options) {
    this.call = channel.newCall(TrackingServiceGrpc.getStreamServingPerfMethod(), options);
    call.start(new ClientCall.Listener<StreamServingPerfResponse>() {
      @Override
      public void onMessage(StreamServingPerfResponse message) {
        synchronized (lock) {
          response = message;
        }
      }

      @Override
      public void onReady() {
        synchronized (lock) {
          lock.notifyAll();
        }
      }

      @Override
      public void onClose(Status s, Metadata t) {
        synchronized (lock) {
          status = s;
          trailers = t;
          lock.notifyAll();
        }
      }
    }, new Metadata());
    call.request(1);
  }

  /** When the call was opened ({@link System#nanoTime()}). */
  long openedNanos() {
    return openedNanos;
  }

  /** Batches sent so far. */
  int sent() {
    return sent;
  }

  /** Whether the call has ended (failed, or answered after {@link #finish}). */
  boolean ended() {
    synchronized (lock) {
      return status != null;
    }
  }

  /**
   * Waits until the transport can take a message, then sends the batch.
   *
   * @param giveUp checked while waiting: when it turns true the call is cancelled
   * @return false if the call ended (or was given up) before the batch could be sent
   */
  boolean send(StreamServingPerfRequest batch, BooleanSupplier giveUp) {
    synchronized (lock) {
      while (status == null && !call.isReady()) {
        if (giveUp.getAsBoolean()) {
          cancel("the reporter stopped waiting");
          return false;
        }
        waitSlice(MAX_WAIT_SLICE_NANOS);
      }
      if (status != null) {
        return false;
      }
    }
    call.sendMessage(batch);
    sent++;
    return true;
  }

  /**
   * Half-closes and waits for the server's answer.
   *
   * @param giveUp checked while waiting: when it turns true the call is cancelled
   * @return the server's counts
   * @throws StatusRuntimeException the call's failure, with its trailers (so its google.rpc details)
   */
  StreamServingPerfResponse finish(BooleanSupplier giveUp) {
    synchronized (lock) {
      if (status == null) {
        call.halfClose();
      }
      while (status == null) {
        if (giveUp.getAsBoolean()) {
          cancel("the reporter stopped waiting");
        }
        waitSlice(MAX_WAIT_SLICE_NANOS);
      }
      if (status.isOk() && response != null) {
        return response;
      }
      if (status.isOk()) {
        throw Status.INTERNAL.withDescription("the server closed StreamServingPerf without an answer")
            .asRuntimeException();
      }
      throw status.asRuntimeException(trailers);
    }
  }

  /** Cancels the call; the server keeps the batches it already wrote. */
  void cancel(String why) {
    call.cancel(why, null);
  }

  private void waitSlice(long nanos) {
    try {
      TimeUnit.NANOSECONDS.timedWait(lock, nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted");
    }
  }
}
