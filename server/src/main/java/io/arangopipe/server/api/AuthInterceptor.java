package io.arangopipe.server.api;

import io.arangopipe.server.core.Accounts;
import io.arangopipe.server.core.Principal;
import io.arangopipe.server.store.StoreException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Authenticates every call to the Arangopipe services by its bearer token and puts the caller into the
 * call's context. Health and reflection are not intercepted, so probes and grpcurl's discovery work
 * without a token. Nothing is cached: a revoked token fails on its next call.
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Accounts accounts;

  public AuthInterceptor(Accounts accounts) {
    this.accounts = accounts;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String header = headers.get(AUTHORIZATION);
    if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      call.close(Status.UNAUTHENTICATED.withDescription("this server requires a token: send the metadata"
          + " \"authorization: Bearer <token>\" (grpcurl: -H 'authorization: Bearer <token>')"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Principal who;
    try {
      who = accounts.authenticate(header.substring(7).strip());
    } catch (StoreException e) {
      io.grpc.StatusRuntimeException s = StatusMapper.toStatus(e);
      call.close(s.getStatus(), s.getTrailers() == null ? new Metadata() : s.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    Context ctx = Context.current().withValue(Calls.PRINCIPAL, who);
    return Contexts.interceptCall(ctx, call, headers, next);
  }
}
