package io.reuseport.stats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * How evenly work spread over the instances: Jain's index {@code (Σx)²/(n·Σx²)} (1 = even, 1/n = one instance took
 * everything), the max/min ratio, the coefficient of variation, and the instances that got nothing while others got
 * work. With no work at all, the spread is undefined: {@code jain} and {@code cv} are NaN.
 *
 * @param jain Jain's fairness index
 * @param maxOverMin max/min, or NaN when some instance got nothing (infinite) or none got anything
 * @param cv standard deviation over mean
 * @param idle ids of the instances that got nothing while others got work
 * @param sample the total the spread is computed over
 */
public record Fairness(double jain, double maxOverMin, double cv, List<Integer> idle, long sample) {

  /** Fairness of {@code values}, indexed by instance id. */
  public static Fairness of(long[] values) {
    int n = values.length;
    long sum = 0;
    double sumSquares = 0;
    long max = Long.MIN_VALUE;
    long min = Long.MAX_VALUE;
    for (long v : values) {
      sum += v;
      sumSquares += (double) v * v;
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    List<Integer> idle = new ArrayList<>();
    if (n == 0 || sum == 0) {
      return new Fairness(Double.NaN, Double.NaN, Double.NaN, idle, 0);
    }
    for (int i = 0; i < n; i++) {
      if (values[i] == 0) {
        idle.add(i);
      }
    }
    double mean = (double) sum / n;
    double variance = Math.max(0, sumSquares / n - mean * mean);
    double jain = (double) sum * sum / (n * sumSquares);
    double maxOverMin = min == 0 ? Double.NaN : (double) max / min;
    return new Fairness(jain, maxOverMin, Math.sqrt(variance) / mean, List.copyOf(idle), sum);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("jain", finiteOrNull(jain))
        .put("maxOverMin", finiteOrNull(maxOverMin))
        .put("cv", finiteOrNull(cv))
        .put("idle", new JsonArray(new ArrayList<>(idle)))
        .put("sample", sample);
  }

  private static Double finiteOrNull(double d) {
    return Double.isFinite(d) ? d : null;
  }
}
