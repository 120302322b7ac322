package io.reuseport.stats;

/**
 * When to say that one kind of traffic spreads unevenly over the instances: once when an episode begins (an interval
 * with enough of a sample whose Jain's index is below the threshold) and once when it ends (the next such interval
 * at or above it), not every interval in between: a warning repeated every second for the rest of a run hides
 * every other line. An interval with too small a sample neither begins nor ends an episode. Pure logic; the
 * collector's loop calls it once per interval and kind.
 */
final class UnevenSpread {

  enum Change { BEGAN, ENDED, NONE }

  private final double warnBelow;
  private final long minSample;
  private boolean uneven;
  private long beganAtMs;
  private double lowest;

  UnevenSpread(double warnBelow, long minSample) {
    this.warnBelow = warnBelow;
    this.minSample = minSample;
  }

  /** The interval that ended at {@code nowMs}: whether an episode began or ended with it. */
  Change next(long nowMs, Fairness interval) {
    if (interval.sample() < minSample || Double.isNaN(interval.jain())) {
      return Change.NONE;
    }
    boolean low = interval.jain() < warnBelow;
    if (low && !uneven) {
      uneven = true;
      beganAtMs = nowMs;
      lowest = interval.jain();
      return Change.BEGAN;
    }
    if (low) {
      lowest = Math.min(lowest, interval.jain());
      return Change.NONE;
    }
    if (uneven) {
      uneven = false;
      return Change.ENDED;
    }
    return Change.NONE;
  }

  boolean uneven() {
    return uneven;
  }

  long beganAtMs() {
    return beganAtMs;
  }

  /** The lowest index of the current or last episode. */
  double lowest() {
    return lowest;
  }
}
