package io.arangopipe.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server interceptor for tests: records the headers of every call (and, with {@link #clientRecorder()},
 * the request messages), and injects
 * faults per method (full gRPC method name, e.g. {@code arangopipe.v1.TrackingService/RegisterDataset}).
 */
final class FaultInjector implements ServerInterceptor {
  /** Headers of every call, in order. */
  final List<Metadata> headers = new CopyOnWriteArrayList<>();
  /** Request messages per method, in order, as the client sent them (see {@link #clientRecorder()}). */
  final Map<String, List<Object>> messages = new ConcurrentHashMap<>();
  /** Calls per method. */
  final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  private final Map<String, AtomicInteger> rejectBefore = new ConcurrentHashMap<>();
  private final Map<String, Status> rejectStatus = new ConcurrentHashMap<>();
  private final Map<String, Metadata> rejectTrailers = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> loseResponse = new ConcurrentHashMap<>();
  private final Map<String, Long> delayMillis = new ConcurrentHashMap<>();

  /** The next n calls of the method fail with the status before the server sees them. */
  void failNext(String method, int n, Status status) {
    failNext(method, n, status, new Metadata());
  }

  /** The same, with trailers, e.g. a {@code google.rpc.Status} with details: {@code Status.trailersFromThrowable}. */
  void failNext(String method, int n, Status status, Metadata trailers) {
    rejectStatus.put(method, status);
    rejectTrailers.put(method, trailers);
    rejectBefore.put(method, new AtomicInteger(n));
  }

  /** Every call of the method fails with the status, until {@link #clear}. */
  void failAll(String method, Status status) {
    failNext(method, Integer.MAX_VALUE, status);
  }

  /**
   * The next n calls of the method are handled by the server (and written), but the client gets
   * UNAVAILABLE instead of the answer: a connection lost after the write.
   */
  void loseNextResponses(String method, int n) {
    loseResponse.put(method, new AtomicInteger(n));
  }

  /** Every call of the method waits this long before the server handles it. */
  void delay(String method, long millis) {
    delayMillis.put(method, millis);
  }

  void clear() {
    rejectBefore.clear();
    loseResponse.clear();
    delayMillis.clear();
  }

  int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  List<Object> messages(String method) {
    return messages.getOrDefault(method, List.of());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    this.headers.add(headers);
    calls.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
    AtomicInteger reject = rejectBefore.get(method);
    if (reject != null && reject.getAndDecrement() > 0) {
      Metadata trailers = new Metadata();
      trailers.merge(rejectTrailers.getOrDefault(method, new Metadata()));
      call.close(rejectStatus.get(method), trailers);
      return new ServerCall.Listener<Q>() {};
    }
    Long delay = delayMillis.get(method);
    if (delay != null) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    ServerCall<Q, R> wrapped = call;
    AtomicInteger lose = loseResponse.get(method);
    if (lose != null && lose.getAndDecrement() > 0) {
      wrapped = new ForwardingServerCall.SimpleForwardingServerCall<Q, R>(call) {
        @Override
        public void sendMessage(R message) {
          // dropped: the answer never arrives
        }

        @Override
        public void close(Status status, Metadata trailers) {
          super.close(Status.UNAVAILABLE.withDescription("injected: connection lost after the server's answer"),
              new Metadata());
        }
      };
    }
    return next.startCall(wrapped, headers);
  }

  /**
   * A client interceptor that records every request message the client sends, per method. (The server
   * reads messages as raw streams before its own interceptors parse them, so they are recorded here.)
   */
  ClientInterceptor clientRecorder() {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        List<Object> log = messages.computeIfAbsent(method.getFullMethodName(), k -> new CopyOnWriteArrayList<>());
        return new ForwardingClientCall.SimpleForwardingClientCall<Q, R>(next.newCall(method, options)) {
          @Override
          public void sendMessage(Q message) {
            log.add(message);
            super.sendMessage(message);
          }
        };
      }
    };
  }
}
