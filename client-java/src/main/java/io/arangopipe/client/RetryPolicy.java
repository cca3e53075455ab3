package io.arangopipe.client;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.Objects;

/**
 * How {@link ArangopipeClient} retries a call that failed with UNAVAILABLE (server unreachable or
 * restarting) or ABORTED (a write conflict the server asks to retry): up to {@code maxAttempts} attempts
 * in all, waiting an exponentially growing, jittered interval between them, all within the call's one
 * deadline.
 *
 * <p>Retrying is safe for every call: reads change nothing, and the client gives every write a
 * {@code request_id} (unless the request carries one), so the server writes a retried write once and
 * answers it with the first result. Other codes are never retried.
 *
 * <p>Immutable; build one with {@link #builder()}.
 */
public final class RetryPolicy {
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final double multiplier;
  private final double jitter;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.multiplier = b.multiplier;
    this.jitter = b.jitter;
  }

  /** 5 attempts; 100 ms, 200 ms, 400 ms, 800 ms between them (each ±50%), never more than 2 s. */
  public static RetryPolicy defaults() {
    return builder().build();
  }

  /** One attempt: no retries. */
  public static RetryPolicy none() {
    return builder().maxAttempts(1).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  public double multiplier() {
    return multiplier;
  }

  /** The randomization factor: each wait is the exponential value ± this fraction of it. */
  public double jitter() {
    return jitter;
  }

  /** The wait before attempt n+1, as a resilience4j interval function of n (1-based). */
  IntervalFunction intervalFunction() {
    return backoff(initialBackoff, multiplier, jitter, maxBackoff);
  }

  static IntervalFunction backoff(Duration initial, double multiplier, double jitter, Duration max) {
    if (jitter == 0) {
      return IntervalFunction.ofExponentialBackoff(initial, multiplier, max);
    }
    return IntervalFunction.ofExponentialRandomBackoff(initial, multiplier, jitter, max);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff + ", maxBackoff="
        + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter + "}";
  }

  /** Builds a {@link RetryPolicy}. */
  public static final class Builder {
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private double multiplier = 2.0;
    private double jitter = 0.5;

    private Builder() {}

    /** Attempts in all, the first included (1 = no retries). */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1 (got " + maxAttempts + ")");
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = positive("initialBackoff", initialBackoff);
      return this;
    }

    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = positive("maxBackoff", maxBackoff);
      return this;
    }

    /** Growth factor of the wait, at least 1. */
    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be at least 1 (got " + multiplier + ")");
      }
      this.multiplier = multiplier;
      return this;
    }

    /** Randomization factor in [0, 1): 0.5 makes each wait 50% to 150% of the exponential value. */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0.0 && jitter < 1.0)) {
        throw new IllegalArgumentException("jitter must be in [0, 1) (got " + jitter + ")");
      }
      this.jitter = jitter;
      return this;
    }

    public RetryPolicy build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("maxBackoff (" + maxBackoff + ") is shorter than initialBackoff ("
            + initialBackoff + ")");
      }
      return new RetryPolicy(this);
    }

    static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive (got " + d + ")");
      }
      return d;
    }
  }
}
