package io.reuseport.steer;

import java.util.Arrays;

/**
 * Each event loop's recent busy share, from its thread's scheduler times ({@link LoopCpu}): the part of the time it
 * was on a CPU or waiting for one, that is not asleep in {@code epoll_wait} waiting for work. Waiting for a CPU
 * counts as busy: a loop that is runnable has work it has not done yet, whether the CPU is its own or another's
 * (when every loop waits alike, as on a starved machine, they look alike, and the {@link LoadPolicy} keeps an even
 * table). Smoothed over about {@value #SMOOTHING_MS} ms so that one long task does not move buckets.
 *
 * <p>A loop whose heartbeat is late and whose thread is not runnable counts as fully busy: a loop blocked on a
 * lock, a sleep or a blocking call is neither on a CPU nor waiting for one, so by the scheduler alone it would look
 * idle, and would get more new connections until the {@link StallJudge} takes it out. (A late loop that waits for
 * a CPU is judged by its times, which show the wait.) Pure logic on a given clock; one thread calls it.
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
   * @param lastStamps each loop's last heartbeat on the same clock
   * @param lateNanos a loop whose last heartbeat is older than this, and that is not runnable, counts as fully busy
   */
  double[] sample(long now, LoopCpu.Times[] cpu, long[] lastStamps, long lateNanos) {
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
    double[] result = busy.clone();
    for (int i = 0; i < result.length; i++) {
      // runnable: waiting for a CPU, which its times already show (a starved machine is not a blocked loop)
      if (now - lastStamps[i] > lateNanos && !cpu[i].runnable()) {
        result[i] = 1;
      }
    }
    return result;
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
