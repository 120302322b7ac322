package io.reuseport.load;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Where a run's work landed: per server instance, the change of one counter between two /stats reads, and Jain's
 * fairness index of those changes, (Σx)² / (n·Σx²): 1 when all are equal, 1/n when one instance got everything.
 *
 * @param metric the counter, e.g. {@code tcp.accepted}
 * @param instances one entry per instance present in the second read, ordered by id
 * @param total sum of the deltas
 * @param jain Jain's index, NaN when there is no instance or no work
 */
record InstanceDistribution(String metric, List<Share> instances, long total, double jain) {

  /** One instance's counter before and after the run, and the difference (the counter restarts from 0). */
  record Share(String id, long before, long after, long delta) {
  }

  static InstanceDistribution between(String metric, Map<String, Long> before, Map<String, Long> after) {
    List<Share> shares = new ArrayList<>();
    for (Map.Entry<String, Long> e : after.entrySet()) {
      long b = before.getOrDefault(e.getKey(), 0L);
      long a = e.getValue();
      shares.add(new Share(e.getKey(), b, a, a >= b ? a - b : a));
    }
    shares.sort(Comparator.comparing(Share::id, InstanceDistribution::compareIds));
    long[] deltas = shares.stream().mapToLong(Share::delta).toArray();
    long total = 0;
    for (long d : deltas) {
      total += d;
    }
    return new InstanceDistribution(metric, List.copyOf(shares), total, jain(deltas));
  }

  /** Jain's index of {@code x}; NaN when empty or all zero. */
  static double jain(long[] x) {
    double sum = 0;
    double squares = 0;
    for (long v : x) {
      sum += v;
      squares += (double) v * v;
    }
    return squares == 0 ? Double.NaN : sum * sum / (x.length * squares);
  }

  private static int compareIds(String a, String b) {
    try {
      return Long.compare(Long.parseLong(a), Long.parseLong(b));
    } catch (NumberFormatException e) {
      return a.compareTo(b);
    }
  }
}
