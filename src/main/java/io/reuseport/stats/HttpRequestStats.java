package io.reuseport.stats;

import org.HdrHistogram.Histogram;

/**
 * The HTTP request counters of one instance: plain fields, touched only on that instance's event loop (Vert.x
 * calls the request metrics there), copied into an {@link InstanceSnapshot.HttpCounts} there.
 *
 * <p>Latency is the time from the request's head to the end of its response. Two views: the percentiles of the last
 * stats interval (an HdrHistogram, reset each interval) for {@code /stats} and the dashboard, and cumulative counts
 * in fixed buckets for the Prometheus histogram, so that labels stay bounded and any window can be computed there.
 */
public final class HttpRequestStats {

  /** Upper bounds of the Prometheus histogram's buckets, in seconds (the last, +Inf, is implicit). */
  public static final double[] BUCKETS_SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      2.5, 5, 10};
  private static final long[] BUCKETS_NANOS = new long[BUCKETS_SECONDS.length];

  static {
    for (int i = 0; i < BUCKETS_SECONDS.length; i++) {
      BUCKETS_NANOS[i] = Math.round(BUCKETS_SECONDS[i] * 1e9);
    }
  }

  private long requests;
  private long active;
  private long resets;
  /** Responses by status class: index 0 for 1xx .. 4 for 5xx. */
  private final long[] byStatusClass = new long[5];
  /** Per bucket (not cumulative), the last for durations beyond every bound. */
  private final long[] buckets = new long[BUCKETS_SECONDS.length + 1];
  private long sumNanos;
  private long tlsHandshakeFailures;
  /** Microseconds, this interval; resizes itself. */
  private final Histogram interval = new Histogram(2);
  private double p50Ms;
  private double p99Ms;

  /** A request's head arrived. */
  public void begin() {
    requests++;
    active++;
  }

  /** A request's response was sent whole, {@code nanos} after it began. */
  public void answered(int status, long nanos) {
    active--;
    int statusClass = status / 100 - 1;
    if (statusClass >= 0 && statusClass < byStatusClass.length) {
      byStatusClass[statusClass]++;
    }
    int b = 0;
    while (b < BUCKETS_NANOS.length && nanos > BUCKETS_NANOS[b]) {
      b++;
    }
    buckets[b]++;
    sumNanos += nanos;
    interval.recordValue(Math.max(0, nanos / 1_000));
  }

  /** A request ended without a whole response (the connection or the stream was reset or closed). */
  public void reset() {
    active--;
    resets++;
  }

  /** A connection's TLS handshake failed (the client's fault: see {@link InstanceSnapshot.HttpCounts}). */
  public void tlsHandshakeFailed() {
    tlsHandshakeFailures++;
  }

  /** Ends a stats interval: its percentiles become the reported ones and the next interval starts empty. */
  public void rollInterval() {
    if (interval.getTotalCount() == 0) {
      p50Ms = 0;
      p99Ms = 0;
    } else {
      p50Ms = interval.getValueAtPercentile(50) / 1000.0;
      p99Ms = interval.getValueAtPercentile(99) / 1000.0;
    }
    interval.reset();
  }

  InstanceSnapshot.HttpCounts snapshot() {
    return new InstanceSnapshot.HttpCounts(requests, active, resets, byStatusClass.clone(), p50Ms, p99Ms,
        buckets.clone(), sumNanos / 1e9, tlsHandshakeFailures);
  }
}
