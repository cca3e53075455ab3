package io.arangopipe.server.transfer;

import io.arangopipe.server.transfer.DumpFormat.Kind;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Progress of a long export or import on stderr: a line every {@code everyRecords} records or every
 * {@code everyNanos}, whichever comes first, and a summary at the end.
 */
public class Progress {
  /** Reports nothing. */
  public static final Progress NONE = new Progress(null, "", Long.MAX_VALUE, Long.MAX_VALUE, System::nanoTime);

  private final PrintStream out;
  private final String verb;
  private final long everyRecords;
  private final long everyNanos;
  private final LongSupplier nanoTime;
  private final long start;
  private long lastTotal;
  private long lastTime;

  public Progress(PrintStream out, String verb, long everyRecords, long everyNanos, LongSupplier nanoTime) {
    this.out = out;
    this.verb = verb;
    this.everyRecords = everyRecords;
    this.everyNanos = everyNanos;
    this.nanoTime = nanoTime;
    this.start = nanoTime.getAsLong();
    this.lastTime = start;
  }

  /** Every 100,000 records or 10 seconds, to {@code out}. */
  public static Progress to(PrintStream out, String verb) {
    return new Progress(out, verb, 100_000, 10_000_000_000L, System::nanoTime);
  }

  void tick(Map<Kind, Long> counts) {
    if (out == null) {
      return;
    }
    long total = total(counts);
    if (total - lastTotal < everyRecords && (total & 1023) != 0) {
      return;
    }
    long now = nanoTime.getAsLong();
    if (total - lastTotal >= everyRecords || now - lastTime >= everyNanos) {
      lastTotal = total;
      lastTime = now;
      out.println(verb + ": " + total + " records so far (" + describe(counts) + "), " + seconds(now) + " s");
    }
  }

  void done(Map<Kind, Long> counts) {
    if (out == null) {
      return;
    }
    out.println(verb + ": " + total(counts) + " records (" + describe(counts) + ") in "
        + seconds(nanoTime.getAsLong()) + " s");
  }

  void message(String line) {
    if (out != null) {
      out.println(verb + ": " + line);
    }
  }

  private long seconds(long now) {
    return (now - start) / 1_000_000_000L;
  }

  public static long total(Map<Kind, Long> counts) {
    long n = 0;
    for (long c : counts.values()) {
      n += c;
    }
    return n;
  }

  /** {@code 20 collection, 9 vertex, 11 edge, 1 history, 1 request}. */
  static String describe(Map<Kind, Long> counts) {
    StringBuilder b = new StringBuilder();
    for (Kind k : Kind.DATA) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(counts.getOrDefault(k, 0L)).append(' ').append(k.label());
    }
    return b.toString();
  }
}
