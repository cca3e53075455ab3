package io.arangopipe.server.store;

import java.util.function.BooleanSupplier;

/**
 * Tells a store whether the call it is working for has been cancelled (the client went away or its
 * deadline passed), so that it can stop a long query or skip a write nobody waits for. Asked on the
 * caller's thread; the supplier it returns may be polled from any thread.
 */
@FunctionalInterface
public interface Cancellation {
  /** Never cancelled: for tests and tools. */
  Cancellation NEVER = () -> () -> false;

  BooleanSupplier current();
}
