package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.reuseport.stats.HttpRequestStats;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.stats.StatsCollector;

import java.util.Arrays;

/**
 * The HTTP request meters, per instance (label {@code worker}, bounded by the instance count; never a path or a
 * client): {@code reuseport_http_requests_total{worker,status_class}}, the histogram
 * {@code reuseport_http_request_duration_seconds{worker}} and
 * {@code reuseport_http_tls_handshake_failures_total{worker}}. Both read the collector's latest snapshots when scraped;
 * the histogram's buckets are counted on each instance's loop ({@link HttpRequestStats}) and handed to the
 * Prometheus registry as they are, since Micrometer builds histograms only from samples it records itself.
 */
public final class HttpMeters {

  static final String DURATION = "reuseport_http_request_duration_seconds";
  private static final double[] UPPER_BOUNDS = upperBounds();

  private HttpMeters() {
  }

  public static void bind(PrometheusMeterRegistry registry, StatsCollector collector, int instances) {
    for (int i = 0; i < instances; i++) {
      int id = i;
      for (int statusClass = 1; statusClass <= 5; statusClass++) {
        int c = statusClass;
        FunctionCounter.builder("reuseport.http.requests", collector, col -> http(col, id).statusClass(c))
            .description("HTTP responses sent whole, by status class")
            .tag("worker", Integer.toString(id)).tag("status_class", c + "xx").register(registry);
      }
      FunctionCounter.builder("reuseport.http.tls.handshake.failures", collector,
              col -> http(col, id).tlsHandshakeFailures())
          .description("TLS handshakes that failed (not TLS, no common protocol or cipher, an alert from the client)")
          .tag("worker", Integer.toString(id)).register(registry);
    }
    registry.getPrometheusRegistry().register(new DurationCollector(collector, instances));
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

  /** The request-duration histogram of every instance, from its latest snapshot. */
  private record DurationCollector(StatsCollector collector, int instances) implements Collector {

    @Override
    public MetricSnapshot collect() {
      HistogramSnapshot.Builder histogram = HistogramSnapshot.builder().name(DURATION)
          .help("time from an HTTP request's head to the end of its response");
      for (int id = 0; id < instances; id++) {
        InstanceSnapshot.HttpCounts http = http(collector, id);
        histogram.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
            .labels(Labels.of("worker", Integer.toString(id)))
            .classicHistogramBuckets(ClassicHistogramBuckets.of(UPPER_BOUNDS, http.durationBuckets()))
            .sum(http.durationSumSeconds())
            .build());
      }
      return histogram.build();
    }

    @Override
    public String getPrometheusName() {
      return DURATION;
    }
  }
}
