package io.reuseport.steer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decides, from the heartbeats and from what the scheduler says about each loop's thread, which instances are
 * steered around. An instance goes out when it has gone without a stamp for longer than the threshold of time in
 * which it <em>could have run</em>; it comes back once it has stamped without such a gap for {@code recovery}
 * (hysteresis: a loop that keeps blocking does not flap in and out). Pure logic on a given clock; one thread calls
 * it. Two kinds of time do not count against a loop:
 *
 * <ul>
 *   <li><b>A late check.</b> Each check counts at most a third of the threshold, however long ago the last one
 *   was: when the judge itself ran late, the whole process was held up (a GC pause, a safepoint that a starved
 *   thread kept waiting, the judge's own thread without a CPU) and its loops with it. A stall is only ever seen
 *   over several checks.</li>
 *   <li><b>Waiting for a CPU that the other loops wait for as well.</b> A loop that is runnable but gets no CPU is
 *   not stuck: the machine (or the container's CPU quota) is short of CPU. If the loops that would take its traffic
 *   wait just as much, moving its buckets to them helps nobody: it piles the work on fewer loops, which the
 *   scheduler then gives less CPU in total than it gave them all, and they flap in and out. So the time a silent
 *   loop waited counts only beyond the share of their runnable time that the healthy others waited lately. A loop
 *   that alone lacks CPU (pinned to a busy core, say) is still steered around.</li>
 * </ul>
 */
final class StallJudge {

  /**
   * A change of one instance: out (steered around) or back.
   *
   * @param stalledForMs wall-clock time since its last stamp
   * @param couldRunMs of that, the time counted against it (not excused as waiting for a CPU or a late check)
   * @param ranMs how long its thread was on a CPU meanwhile, as far as the judge saw ({@code -1}: unknown)
   * @param waitedMs how long its thread waited for a CPU meanwhile, as far as the judge saw ({@code -1}: unknown)
   */
  record Change(int instance, boolean out, long stalledForMs, long couldRunMs, long ranMs, long waitedMs) {
    static Change back(int instance) {
      return new Change(instance, false, 0, 0, 0, 0);
    }
  }

  /** Weight of the older samples in each loop's recent CPU scarcity, per check: about four checks of memory. */
  private static final double DECAY = 0.75;
  private static final long MS = 1_000_000;

  private final long thresholdNanos;
  private final long recoveryNanos;
  private final long maxCreditNanos;
  private final boolean[] out;
  private final long[] runningSince;
  private final long[] seenStamp;
  /** Per instance, the time it could have run since its last stamp. */
  private final long[] quietNanos;
  /** Per instance, its thread's time on a CPU and waiting for one since its last stamp; -1: unknown. */
  private final long[] quietRan;
  private final long[] quietWaited;
  private final LoopCpu.Times[] lastTimes;
  /** Per instance, the wait already counted that the kernel has not added to the thread's total yet. */
  private final long[] pendingWait;
  /** Decayed sums per instance: time waited for a CPU, and time runnable (on a CPU or waiting for one). */
  private final double[] recentWaited;
  private final double[] recentRunnable;
  private long lastCheck = Long.MIN_VALUE;

  StallJudge(int instances, long thresholdNanos, long recoveryNanos) {
    this.thresholdNanos = thresholdNanos;
    this.recoveryNanos = recoveryNanos;
    this.maxCreditNanos = thresholdNanos / 3;
    this.out = new boolean[instances];
    this.runningSince = new long[instances];
    this.seenStamp = new long[instances];
    Arrays.fill(seenStamp, Long.MIN_VALUE);
    this.quietNanos = new long[instances];
    this.quietRan = new long[instances];
    this.quietWaited = new long[instances];
    this.lastTimes = new LoopCpu.Times[instances];
    Arrays.fill(lastTimes, LoopCpu.Times.UNKNOWN);
    this.pendingWait = new long[instances];
    this.recentWaited = new double[instances];
    this.recentRunnable = new double[instances];
  }

  /** {@link #check(long, long[], LoopCpu.Times[])} without the scheduler's view: no waiting is excused. */
  List<Change> check(long now, long[] lastStamps) {
    LoopCpu.Times[] unknown = new LoopCpu.Times[out.length];
    Arrays.fill(unknown, LoopCpu.Times.UNKNOWN);
    return check(now, lastStamps, unknown);
  }

  /**
   * @param now the clock ({@code System.nanoTime()})
   * @param lastStamps each instance's last stamp on the same clock
   * @param cpu each instance's loop thread's cumulative times now, or {@link LoopCpu.Times#UNKNOWN}
   * @return the instances whose state changed, in id order
   */
  List<Change> check(long now, long[] lastStamps, LoopCpu.Times[] cpu) {
    long elapsed = lastCheck == Long.MIN_VALUE ? 0 : Math.max(0, now - lastCheck);
    lastCheck = now;
    int n = out.length;
    long[] ran = new long[n];
    long[] waited = new long[n];
    for (int i = 0; i < n; i++) {
      sample(i, cpu[i], elapsed, ran, waited);
    }
    // excuses from the state before this check, so that the order of the instances does not matter
    long[] credit = new long[n];
    for (int i = 0; i < n; i++) {
      credit[i] = clamp(elapsed - excused(i, ran[i], waited[i]), 0, maxCreditNanos);
    }
    List<Change> changes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (lastStamps[i] != seenStamp[i]) {
        // stamped during the interval: the part since then counts, as the interval does, at most the credit
        seenStamp[i] = lastStamps[i];
        quietNanos[i] = clamp(now - lastStamps[i], 0, credit[i]);
        quietRan[i] = 0;
        quietWaited[i] = 0;
      } else {
        quietNanos[i] += credit[i];
        quietRan[i] = ran[i] < 0 || quietRan[i] < 0 ? -1 : quietRan[i] + ran[i];
        quietWaited[i] = waited[i] < 0 || quietWaited[i] < 0 ? -1 : quietWaited[i] + waited[i];
      }
      if (quietNanos[i] > thresholdNanos) {
        runningSince[i] = 0;
        if (!out[i]) {
          out[i] = true;
          changes.add(new Change(i, true, (now - lastStamps[i]) / MS, quietNanos[i] / MS, millis(quietRan[i]),
              millis(quietWaited[i])));
        }
      } else if (out[i]) {
        if (runningSince[i] == 0) {
          runningSince[i] = now;
        } else if (now - runningSince[i] >= recoveryNanos) {
          out[i] = false;
          runningSince[i] = 0;
          changes.add(Change.back(i));
        }
      }
    }
    return changes;
  }

  /**
   * Instance {@code i}'s times over the last interval ({@code -1}: unknown), and its recent CPU scarcity. A thread
   * that was runnable at both ends of the interval and shows no progress at all waited for a CPU throughout: the
   * kernel adds that wait to its total only when the thread gets a CPU, and then that part is not counted again.
   */
  private void sample(int i, LoopCpu.Times now, long elapsed, long[] ran, long[] waited) {
    LoopCpu.Times before = lastTimes[i];
    lastTimes[i] = now;
    if (!now.known() || !before.known()) {
      ran[i] = -1;
      waited[i] = -1;
      pendingWait[i] = 0;
      return;
    }
    ran[i] = Math.max(0, now.ranNanos() - before.ranNanos());
    waited[i] = Math.max(0, now.waitedNanos() - before.waitedNanos());
    if (ran[i] == 0 && waited[i] == 0 && before.runnable() && now.runnable()) {
      waited[i] = elapsed;
      pendingWait[i] += elapsed;
    } else {
      long countedBefore = Math.min(waited[i], pendingWait[i]);
      waited[i] -= countedBefore;
      pendingWait[i] = 0;
    }
    recentWaited[i] = recentWaited[i] * DECAY + waited[i];
    recentRunnable[i] = recentRunnable[i] * DECAY + ran[i] + waited[i];
  }

  /**
   * The part of instance {@code i}'s wait for a CPU over the last interval that the healthy others would have had
   * as well: its runnable time times their recent share of waiting, at most what it waited.
   */
  private long excused(int i, long ran, long waited) {
    if (waited <= 0) {
      return 0;
    }
    return Math.min(waited, (long) (scarcityElsewhere(i) * (ran + waited)));
  }

  /**
   * The mean share of their runnable time that the healthy instances other than {@code i} waited for a CPU lately:
   * 1 when no other instance is healthy (its traffic has nowhere better to go), 0 when none of them is known.
   */
  private double scarcityElsewhere(int i) {
    int healthy = 0;
    int known = 0;
    double sum = 0;
    for (int j = 0; j < out.length; j++) {
      if (j == i || out[j]) {
        continue;
      }
      healthy++;
      if (recentRunnable[j] > 0) {
        known++;
        sum += recentWaited[j] / recentRunnable[j];
      }
    }
    if (healthy == 0) {
      return 1;
    }
    return known == 0 ? 0 : sum / known;
  }

  private static long millis(long nanos) {
    return nanos < 0 ? -1 : nanos / MS;
  }

  private static long clamp(long value, long min, long max) {
    return Math.max(min, Math.min(max, value));
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
