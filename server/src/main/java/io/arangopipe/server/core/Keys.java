package io.arangopipe.server.core;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * Generates document keys: 26-character ULIDs (48-bit millisecond time, 80 random bits, Crockford
 * base32). They sort by creation time, are valid keys in every store, and need no coordination between
 * server replicas. Within one millisecond this generator increments the random part, so its keys are
 * strictly increasing.
 */
public final class Keys {
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private long lastMillis = -1;
  private long randHi; // 16 bits
  private long randLo; // 64 bits

  public Keys(Clock clock) {
    this.clock = clock;
  }

  public synchronized String next() {
    long now = clock.millis();
    if (now > lastMillis) {
      lastMillis = now;
      randHi = random.nextInt(1 << 16);
      randLo = random.nextLong();
    } else {
      randLo++;
      if (randLo == 0) {
        randHi = (randHi + 1) & 0xFFFF;
        if (randHi == 0) {
          lastMillis++; // overflowed 80 bits within a millisecond: borrow the next millisecond
        }
      }
    }
    char[] out = new char[26];
    long time = lastMillis;
    for (int i = 9; i >= 0; i--) {
      out[i] = ALPHABET[(int) (time & 31)];
      time >>>= 5;
    }
    // 80 random bits = randHi (16) + randLo (64), written as 16 base32 digits.
    long lo = randLo;
    long hi = randHi;
    for (int i = 25; i >= 10; i--) {
      out[i] = ALPHABET[(int) (lo & 31)];
      lo = (lo >>> 5) | ((hi & 31) << 59);
      hi >>>= 5;
    }
    return new String(out);
  }
}
