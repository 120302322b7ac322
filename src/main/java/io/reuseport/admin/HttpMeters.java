package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.stats.HttpRequestStats;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.stats.StatsCollector;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The HTTP request meters, per instance (label {@code worker}, bounded by the instance count; never a path or a
 * client): {@code reuseport_http_requests_total{worker,status_class}}, the histogram
 * {@code reuseport_http_request_duration_seconds{worker}} and
 * {@code reuseport_http_tls_handshake_failures_total{worker}}. All read the collector's latest snapshots when scraped;
 * the histogram's buckets are counted on each instance's loop ({@link HttpRequestStats}) and handed to the
 * Prometheus registry as they are ({@link ServerMeters#histogram}).
 */
public final class HttpMeters {

  static final String DURATION = "reuseport_http_request_duration_seconds";
  private static final double[] UPPER_BOUNDS = upperBounds();

  private HttpMeters() {
  }

  public static void bind(ServerMeters meters, StatsCollector collector, int instances) {
    for (int i = 0; i < instances; i++) {
      int id = i;
      for (int statusClass = 1; statusClass <= 5; statusClass++) {
        int c = statusClass;
        meters.counter(FunctionCounter.builder("reuseport.http.requests", collector,
                col -> http(col, id).statusClass(c))
            .description("HTTP responses sent whole, by status class")
            .tag("worker", Integer.toString(id)).tag("status_class", c + "xx"));
      }
      meters.counter(FunctionCounter.builder("reuseport.http.tls.handshake.failures", collector,
              col -> http(col, id).tlsHandshakeFailures())
          .description("TLS handshakes that failed (not TLS, no common protocol or cipher, an alert from the client)")
          .tag("worker", Integer.toString(id)));
    }
    meters.histogram(DURATION, "time from an HTTP request's head to the end of its response",
        () -> durations(meters, collector, instances));
  }

  /** The request-duration histogram's points, one per instance, from its latest snapshot. */
  private static List<HistogramDataPointSnapshot> durations(ServerMeters meters, StatsCollector collector,
                                                            int instances) {
    List<HistogramDataPointSnapshot> points = new ArrayList<>(instances);
    for (int id = 0; id < instances; id++) {
      InstanceSnapshot.HttpCounts http = http(collector, id);
      points.add(HistogramDataPointSnapshot.builder()
          .labels(meters.labels("worker", Integer.toString(id)))
          .classicHistogramBuckets(ClassicHistogramBuckets.of(UPPER_BOUNDS, http.durationBuckets()))
          .sum(http.durationSumSeconds())
          .build());
    }
    return points;
  }

  private static InstanceSnapshot.HttpCounts http(StatsCollector collector, int id) {
    InstanceSnapshot snapshot = collector.latest(id);
    return snapshot == null ? InstanceSnapshot.HttpCounts.ZERO : snapshot.http();
  }

  private static double[] upperBounds() {
    double[] bounds = Arrays.copyOf(HttpRequestStats.BUCKETS_SECONDS, HttpRequestStats.BUCKETS_SECONDS.length + 1);
    bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
    return bounds;
  }
}
