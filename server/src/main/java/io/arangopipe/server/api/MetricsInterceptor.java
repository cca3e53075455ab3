package io.arangopipe.server.api;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Counts calls and times them by method and status code: {@code arangopipe_grpc_server_calls_seconds}
 * (a timer, so Prometheus gets the count, the sum and a latency histogram).
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final MeterRegistry registry;

  public MetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
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
  }
}
