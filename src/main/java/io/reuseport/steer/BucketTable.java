package io.reuseport.steer;

import java.util.Arrays;

/**
 * Which instance (slot) each hash bucket goes to. Bucket {@code b}'s home is slot {@code b % instances}. The table
 * is a function of how many buckets each instance gets: an instance keeps its lowest home buckets up to its count,
 * and the buckets the others give up are dealt round robin to those that need more. With only stalls to steer
 * around (each healthy instance at least its home share), a bucket whose home is healthy stays home: taking an
 * instance out moves only its own buckets, and putting it back returns exactly those.
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
    return assign(evenCounts(healthy));
  }

  /**
   * Bucket counts that share the buckets evenly among the healthy instances (all of them when none is): each keeps
   * its home buckets, and those of the others are dealt among them one by one.
   */
  static int[] evenCounts(boolean[] healthy) {
    int n = healthy.length;
    int count = 0;
    for (boolean h : healthy) {
      count += h ? 1 : 0;
    }
    if (count == 0) {
      return evenCounts(allHealthy(n));
    }
    int[] counts = new int[n];
    int released = 0;
    for (int i = 0; i < n; i++) {
      if (!healthy[i]) {
        released += homeBuckets(i, n);
      }
    }
    int dealt = 0;
    for (int i = 0; i < n; i++) {
      if (healthy[i]) {
        counts[i] = homeBuckets(i, n) + released / count + (dealt++ < released % count ? 1 : 0);
      }
    }
    return counts;
  }

  /**
   * The table that gives instance {@code i} exactly {@code counts[i]} buckets. An instance keeps its lowest home
   * buckets, up to its count; the buckets the others give up are dealt in ascending order, round robin, to the
   * instances that have fewer than their count. The table is a function of the counts alone: an instance whose
   * count shrinks gives up only its own buckets, and with the same counts again every bucket goes where it went.
   *
   * @param counts per instance, its buckets; they add up to {@link SelectorProgram#BUCKETS}
   * @throws IllegalArgumentException when they do not
   */
  public static int[] assign(int[] counts) {
    int n = counts.length;
    if (Arrays.stream(counts).sum() != SelectorProgram.BUCKETS || Arrays.stream(counts).anyMatch(c -> c < 0)) {
      throw new IllegalArgumentException("bucket counts " + Arrays.toString(counts) + " must be >= 0 and add up to "
          + SelectorProgram.BUCKETS);
    }
    int[] table = new int[SelectorProgram.BUCKETS];
    int[] held = new int[n];
    for (int bucket = 0; bucket < table.length; bucket++) {
      int home = bucket % n;
      if (held[home] < counts[home]) {
        table[bucket] = home;
        held[home]++;
      } else {
        table[bucket] = SelectorProgram.NO_SLOT;
      }
    }
    int next = 0;
    for (int bucket = 0; bucket < table.length; bucket++) {
      if (table[bucket] != SelectorProgram.NO_SLOT) {
        continue;
      }
      while (held[next] >= counts[next]) {
        next = (next + 1) % n;
      }
      table[bucket] = next;
      held[next]++;
      next = (next + 1) % n;
    }
    return table;
  }

  /** How many buckets have instance {@code i} of {@code n} as their home. */
  static int homeBuckets(int i, int n) {
    return SelectorProgram.BUCKETS / n + (i < SelectorProgram.BUCKETS % n ? 1 : 0);
  }

  /** How many buckets of {@code table} go to each of {@code n} instances. */
  static int[] counts(int[] table, int n) {
    int[] counts = new int[n];
    for (int slot : table) {
      if (slot >= 0 && slot < n) {
        counts[slot]++;
      }
    }
    return counts;
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
