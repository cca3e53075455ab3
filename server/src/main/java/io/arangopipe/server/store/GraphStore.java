package io.arangopipe.server.store;

/**
 * The graph-store contract: schemaless vertices and edges in named collections, read in snapshots and
 * written in atomic, durable units of work. The embedded SQLite store and the ArangoDB store implement
 * it; {@code GraphStoreContract} in the tests defines the behaviour both must have.
 */
public interface GraphStore extends AutoCloseable {

  /** A unit of reading work. */
  @FunctionalInterface
  interface ReadWork<T> {
    T run(ReadTx tx);
  }

  /**
   * A unit of writing work; it may read its own writes. A store may run it more than once, undoing every
   * attempt but the last (a retry after a conflict, or a batch run again after one of its units failed), so
   * it must keep no state outside the transaction between attempts.
   */
  @FunctionalInterface
  interface WriteWork<T> {
    T run(WriteTx tx);
  }

  /**
   * Runs {@code work} in one consistent snapshot.
   *
   * @throws UnavailableException the database cannot answer
   * @throws ResourceExhaustedException the database needs space it cannot get (e.g. for a temporary sort)
   * @throws StoreException whatever {@code work} throws
   */
  <T> T read(ReadWork<T> work);

  /**
   * Runs {@code work} in one atomic transaction and returns only once it is durable. If {@code work}
   * throws, nothing it wrote is kept and the exception is rethrown.
   *
   * @throws UnavailableException the write could not be made durable (an I/O error); nothing was written
   * @throws ResourceExhaustedException the disk holding the database is full; nothing was written
   * @throws AbortedException a conflict with a concurrent write; retrying is safe
   * @throws StoreException whatever {@code work} throws
   */
  <T> T write(WriteWork<T> work);

  /**
   * {@link #write} without waiting: the future completes once the write is durable, or fails with the
   * exception {@link #write} would throw (not wrapped). It may complete on the store's own thread, so
   * callers should continue elsewhere ({@code whenCompleteAsync}) when they have more than a little to do.
   * Lets a server serve more concurrent writes than it has threads, so group commits can be larger.
   */
  default <T> java.util.concurrent.CompletableFuture<T> writeAsync(WriteWork<T> work) {
    try {
      return java.util.concurrent.CompletableFuture.completedFuture(write(work));
    } catch (RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Checks now whether the database can serve calls, for the gRPC health service (which polls it).
   * Returns quickly; never throws. The embedded store is always available while open.
   */
  default boolean probe() {
    return true;
  }

  /** A short, human-readable description, e.g. {@code sqlite:/data/arangopipe.db}. */
  String describe();

  /** Closes the store; in-flight writes finish first. */
  @Override
  void close();
}
