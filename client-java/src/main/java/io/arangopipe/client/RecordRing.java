package io.arangopipe.client;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded multi-producer, single-consumer ring of pre-allocated slots (Dmitry Vyukov's bounded queue,
 * specialised to one consumer). {@link #offer} never blocks and allocates nothing: a producer claims a
 * position with one CAS on the tail, fills the slot and publishes it with a release store of the slot's
 * sequence. When the ring is full, {@code offer} fails at once.
 *
 * <p>{@link #close()} sets the sign bit of the tail, so no claim can succeed after it and the number of
 * claimed positions is final: the consumer can then drain exactly what was accepted.
 */
final class RecordRing {
  /** One record's fields; owned by the producer that claimed it until published, then by the consumer. */
  static final class Slot {
    String tag;
    Object metrics;
    String metric;
    double value;
    long timeMillis;
    /** Vyukov's sequence: == position when free for that position's producer; position + 1 when full. */
    volatile long seq;
  }

  private static final VarHandle SEQ;

  static {
    try {
      SEQ = MethodHandles.lookup().findVarHandle(Slot.class, "seq", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static final long CLOSED = -1;
  static final long FULL = -2;

  private final Slot[] slots;
  private final int mask;
  /** Next position to claim; the sign bit means closed. */
  private final AtomicLong tail = new AtomicLong();
  /** Next position to consume; written by the consumer only. */
  private final AtomicLong head = new AtomicLong();

  RecordRing(int capacity) {
    if (capacity < 2 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("capacity must be a power of two >= 2 (got " + capacity + ")");
    }
    slots = new Slot[capacity];
    for (int i = 0; i < capacity; i++) {
      slots[i] = new Slot();
      slots[i].seq = i;
    }
    mask = capacity - 1;
  }

  int capacity() {
    return slots.length;
  }

  /**
   * Adds a record.
   *
   * @return its position (from 0), or {@link #FULL}, or {@link #CLOSED}
   */
  long offer(String tag, Object metrics, String metric, double value, long timeMillis) {
    long pos = tail.get();
    while (true) {
      if (pos < 0) {
        return CLOSED;
      }
      Slot s = slots[(int) pos & mask];
      long dif = (long) SEQ.getAcquire(s) - pos;
      if (dif == 0) {
        if (tail.compareAndSet(pos, pos + 1)) {
          s.tag = tag;
          s.metrics = metrics;
          s.metric = metric;
          s.value = value;
          s.timeMillis = timeMillis;
          SEQ.setRelease(s, pos + 1);
          return pos;
        }
        pos = tail.get();
      } else if (dif < 0) {
        return FULL;
      } else {
        pos = tail.get(); // another producer took this position; look again
      }
    }
  }

  /** The next published slot for the consumer, or null if there is none yet. Release it after reading. */
  Slot peek() {
    long pos = head.get();
    Slot s = slots[(int) pos & mask];
    return (long) SEQ.getAcquire(s) == pos + 1 ? s : null;
  }

  /** Frees the slot {@link #peek()} returned for reuse, and moves on. Consumer only. */
  void release(Slot s) {
    long pos = head.get();
    s.tag = null;
    s.metrics = null;
    s.metric = null;
    SEQ.setRelease(s, pos + slots.length);
    head.lazySet(pos + 1);
  }

  /** Positions claimed so far (records accepted), closed or not. */
  long claimed() {
    return tail.get() & Long.MAX_VALUE;
  }

  /** Positions consumed so far. */
  long consumed() {
    return head.get();
  }

  /** Claimed but not yet consumed (some may still be being written). */
  long size() {
    return claimed() - consumed();
  }

  /** No claim succeeds after this; returns the final number of claimed positions. */
  long close() {
    return tail.updateAndGet(t -> t | Long.MIN_VALUE) & Long.MAX_VALUE;
  }

  boolean isClosed() {
    return tail.get() < 0;
  }
}
