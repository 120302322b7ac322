package io.reuseport.steer;

import java.util.Arrays;

/**
 * Each event loop's recent busy share, from its thread's scheduler times ({@link LoopCpu}): the part of the time it
 * was on a CPU or waiting for one, that is not asleep in {@code epoll_wait} waiting for work. Waiting for a CPU
 * counts as busy: a loop that is runnable has work it has not done yet, whether the CPU is its own or another's
 * (when every loop waits alike, as on a starved machine, they look alike, and the {@link LoadPolicy} keeps an even
 * table). Smoothed over about {@value #SMOOTHING_MS} ms so that one long task does not move buckets. Pure logic on
 * a given clock; one thread calls it.
 */
final class LoopLoad {

  /** Time constant of the smoothing: a loop that turns busy counts as busy within about a second. */
  static final long SMOOTHING_MS = 500;
  private static final double SMOOTHING_NANOS = SMOOTHING_MS * 1e6;

  private final LoopCpu.Times[] last;
  private final double[] busy;
  private long lastCheck = Long.MIN_VALUE;

  LoopLoad(int instances) {
    last = new LoopCpu.Times[instances];
    Arrays.fill(last, LoopCpu.Times.UNKNOWN);
    busy = new double[instances];
    Arrays.fill(busy, Double.NaN);
  }

  /**
   * Takes the loops' times now and returns each one's smoothed busy share, 0..1, {@code NaN} while unknown.
   *
   * @param now the clock ({@code System.nanoTime()})
   * @param cpu each loop thread's cumulative times now, or {@link LoopCpu.Times#UNKNOWN}
   */
  double[] sample(long now, LoopCpu.Times[] cpu) {
    long elapsed = lastCheck == Long.MIN_VALUE ? 0 : now - lastCheck;
    lastCheck = now;
    for (int i = 0; i < busy.length; i++) {
      LoopCpu.Times before = last[i];
      last[i] = cpu[i];
      if (!cpu[i].known() || !before.known()) {
        busy[i] = Double.NaN;
        continue;
      }
      if (elapsed <= 0) {
        continue;
      }
      busy[i] = smooth(busy[i], interval(before, cpu[i], elapsed), elapsed);
    }
    return busy.clone();
  }

  /**
   * The busy share over one interval. A thread runnable at both ends that shows no progress at all waited for a CPU
   * throughout (the kernel adds a wait to the total only once the thread gets a CPU).
   */
  static double interval(LoopCpu.Times before, LoopCpu.Times now, long elapsed) {
    long ran = Math.max(0, now.ranNanos() - before.ranNanos());
    long waited = Math.max(0, now.waitedNanos() - before.waitedNanos());
    if (ran == 0 && waited == 0 && before.runnable() && now.runnable()) {
      return 1;
    }
    return Math.min(1, (double) (ran + waited) / elapsed);
  }

  private static double smooth(double previous, double sample, long elapsed) {
    if (Double.isNaN(previous)) {
      return sample;
    }
    double weight = 1 - Math.exp(-elapsed / SMOOTHING_NANOS);
    return previous + weight * (sample - previous);
  }
}
