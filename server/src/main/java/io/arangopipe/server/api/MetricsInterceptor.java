package io.arangopipe.server.api;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Counts calls and times them by method and status code: {@code arangopipe_grpc_server_calls_seconds}
 * (a timer, so Prometheus gets the count, the sum and a latency histogram). {@code
 * arangopipe_grpc_server_handlers_running} is how many calls have handler code running at this moment: work
 * in progress, including a call whose client has gone (cancelled, or out of time) until its handler stops.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final MeterRegistry registry;
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();

  public MetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("arangopipe.grpc.server.handlers.running", running, java.util.concurrent.atomic.AtomicInteger::get)
        .description("calls whose handler code is running now (work in progress, also for calls already cancelled)")
        .register(registry);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    ServerCall.Listener<Q> listener = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        Timer.builder("arangopipe.grpc.server.calls")
            .description("gRPC calls served, by method and status code")
            .tag("method", method)
            .tag("code", status.getCode().name())
            .publishPercentileHistogram()
            .register(registry)
            .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        super.close(status, trailers);
      }
    }, headers);
    // A unary handler runs inside onHalfClose, a streaming one's work inside onMessage.
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        running.incrementAndGet();
        try {
          super.onMessage(message);
        } finally {
          running.decrementAndGet();
        }
      }

      @Override
      public void onHalfClose() {
        running.incrementAndGet();
        try {
          super.onHalfClose();
        } finally {
          running.decrementAndGet();
        }
      }
    };
  }
}
