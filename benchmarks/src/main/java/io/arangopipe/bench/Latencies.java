package io.arangopipe.bench;

import java.util.Arrays;

/** Latencies of one measured case (nanoseconds), with nearest-rank percentiles. */
final class Latencies {
  private final long[] nanos;
  private int n;

  Latencies(int capacity) {
    nanos = new long[capacity];
  }

  void add(long ns) {
    nanos[n++] = ns;
  }

  int count() {
    return n;
  }

  /** Merges several recorders (one per client thread) into one, sorted. */
  static Latencies merge(Iterable<Latencies> parts, int capacity) {
    Latencies all = new Latencies(capacity);
    for (Latencies p : parts) {
      System.arraycopy(p.nanos, 0, all.nanos, all.n, p.n);
      all.n += p.n;
    }
    Arrays.sort(all.nanos, 0, all.n);
    return all;
  }

  /** The nearest-rank percentile in milliseconds; the recorder must be sorted (see {@link #merge}). */
  double percentileMs(double p) {
    if (n == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * n);
    return nanos[Math.max(0, Math.min(n - 1, rank - 1))] / 1e6;
  }

  double maxMs() {
    return n == 0 ? Double.NaN : nanos[n - 1] / 1e6;
  }
}
