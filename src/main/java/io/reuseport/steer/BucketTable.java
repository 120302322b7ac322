package io.reuseport.steer;

import java.util.Arrays;

/**
 * Which instance (slot) each hash bucket goes to. Bucket {@code b}'s home is slot {@code b % instances}; a bucket
 * whose home is healthy always stays home, and the buckets of instances steered around are dealt round robin to the
 * healthy ones. The table is a function of the healthy set alone: taking an instance out moves only its own
 * buckets, and putting it back returns exactly those (no other flow changes instance either way).
 */
public final class BucketTable {

  private BucketTable() {
  }

  /** Every bucket to {@link SelectorProgram#NO_SLOT}: no table yet (before the process attaches). */
  public static int[] empty() {
    int[] table = new int[SelectorProgram.BUCKETS];
    Arrays.fill(table, SelectorProgram.NO_SLOT);
    return table;
  }

  /**
   * The table for these instances. When none is healthy, every bucket goes home: the traffic waits in the queues of
   * our stalled instances (which may recover) rather than go to a socket of another process through the kernel's
   * hash, or be refused.
   *
   * @param healthy per instance, whether it gets new traffic
   */
  public static int[] assign(boolean[] healthy) {
    int n = healthy.length;
    int[] alive = new int[n];
    int count = 0;
    for (int i = 0; i < n; i++) {
      if (healthy[i]) {
        alive[count++] = i;
      }
    }
    if (count == 0) {
      return assign(allHealthy(n));
    }
    int[] table = new int[SelectorProgram.BUCKETS];
    int dealt = 0;
    for (int bucket = 0; bucket < table.length; bucket++) {
      int home = bucket % n;
      table[bucket] = healthy[home] ? home : alive[dealt++ % count];
    }
    return table;
  }

  /**
   * The health the program sees, which decides whether a known UDP flow stays with its instance. While no instance
   * is healthy every one counts as healthy, as every bucket goes home ({@link #assign}): each known flow stays where
   * it is, rather than move back to its bucket's home now and again when one instance runs.
   *
   * @param healthy per instance, whether it gets new traffic
   */
  public static boolean[] flowHealth(boolean[] healthy) {
    for (boolean h : healthy) {
      if (h) {
        return healthy.clone();
      }
    }
    return allHealthy(healthy.length);
  }

  private static boolean[] allHealthy(int n) {
    boolean[] all = new boolean[n];
    Arrays.fill(all, true);
    return all;
  }

  /** The share of the buckets that go to {@code slot}, 0..1. */
  public static double share(int[] table, int slot) {
    long mine = Arrays.stream(table).filter(s -> s == slot).count();
    return (double) mine / table.length;
  }
}
