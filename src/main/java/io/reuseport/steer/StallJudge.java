package io.reuseport.steer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides, from the heartbeats, which instances are steered around. An instance goes out when its last stamp is
 * older than the threshold; it comes back once it has stamped without a gap over the threshold for
 * {@code recovery} (hysteresis: a loop that keeps blocking does not flap in and out). When the judge itself was
 * not called for longer than the threshold, the whole process was paused (a GC or safepoint pause stops every
 * thread alike), so it suspends judgement for one threshold to let the loops stamp again. Pure logic on a given
 * clock; one thread calls it.
 */
final class StallJudge {

  /** A change of one instance: out (steered around) or back. */
  record Change(int instance, boolean out, long stalledForMs) {
  }

  private final long thresholdNanos;
  private final long recoveryNanos;
  private final boolean[] out;
  private final long[] runningSince;
  private long lastCheck = Long.MIN_VALUE;
  private long suspendedUntil = Long.MIN_VALUE;

  StallJudge(int instances, long thresholdNanos, long recoveryNanos) {
    this.thresholdNanos = thresholdNanos;
    this.recoveryNanos = recoveryNanos;
    this.out = new boolean[instances];
    this.runningSince = new long[instances];
  }

  /**
   * @param now the clock ({@code System.nanoTime()})
   * @param lastStamps each instance's last stamp on the same clock
   * @return the instances whose state changed, in id order
   */
  List<Change> check(long now, long[] lastStamps) {
    List<Change> changes = new ArrayList<>();
    boolean paused = lastCheck != Long.MIN_VALUE && now - lastCheck > thresholdNanos;
    lastCheck = now;
    if (paused) {
      suspendedUntil = now + thresholdNanos;
    }
    if (now < suspendedUntil) {
      return changes;
    }
    for (int i = 0; i < out.length; i++) {
      long age = now - lastStamps[i];
      if (age > thresholdNanos) {
        runningSince[i] = 0;
        if (!out[i]) {
          out[i] = true;
          changes.add(new Change(i, true, age / 1_000_000));
        }
      } else if (out[i]) {
        if (runningSince[i] == 0) {
          runningSince[i] = now;
        } else if (now - runningSince[i] >= recoveryNanos) {
          out[i] = false;
          runningSince[i] = 0;
          changes.add(new Change(i, false, 0));
        }
      }
    }
    return changes;
  }

  boolean isOut(int instance) {
    return out[instance];
  }

  boolean[] healthy() {
    boolean[] healthy = new boolean[out.length];
    for (int i = 0; i < out.length; i++) {
      healthy[i] = !out[i];
    }
    return healthy;
  }
}
