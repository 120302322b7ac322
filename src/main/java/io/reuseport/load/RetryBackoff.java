package io.reuseport.load;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How long a worker waits after its n-th failed connect in a row: 20 ms doubling up to 1 s, each wait drawn
 * between half and all of that, so that workers refused at the same moment do not retry in step.
 */
final class RetryBackoff {

  static final long FIRST_MS = 20;
  static final long MAX_MS = 1_000;

  private RetryBackoff() {
  }

  /** The longest wait after failure number {@code failures} (1 for the first). */
  static long ceilingMs(int failures) {
    int doublings = Math.min(Math.max(0, failures - 1), 20);
    return Math.min(MAX_MS, FIRST_MS << doublings);
  }

  static long delayMs(int failures) {
    long ceiling = ceilingMs(failures);
    return ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
  }
}
