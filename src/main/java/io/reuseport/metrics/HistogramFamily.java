package io.reuseport.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * One classic histogram on a Prometheus registry, whose data points come from several servers: the registry takes
 * each metric name once, so the servers sharing it share the family. It is registered with its first part and
 * unregistered with its last. Micrometer builds histograms only from samples it records itself, hence a collector
 * of the Prometheus client's own.
 */
final class HistogramFamily implements Collector {

  private final PrometheusRegistry registry;
  private final String name;
  private final String help;
  private final Runnable onEmpty;
  private final List<Part> parts = new CopyOnWriteArrayList<>();

  HistogramFamily(PrometheusRegistry registry, String name, String help, Runnable onEmpty) {
    this.registry = registry;
    this.name = name;
    this.help = help;
    this.onEmpty = onEmpty;
  }

  /** Adds a server's points; the first part registers the family. Called under the caller's lock. */
  Part add(Supplier<List<HistogramDataPointSnapshot>> points) {
    Part part = new Part(points);
    parts.add(part);
    if (parts.size() == 1) {
      registry.register(this);
    }
    return part;
  }

  @Override
  public MetricSnapshot collect() {
    HistogramSnapshot.Builder histogram = HistogramSnapshot.builder().name(name).help(help);
    for (Part part : parts) {
      part.points.get().forEach(histogram::dataPoint);
    }
    return histogram.build();
  }

  @Override
  public String getPrometheusName() {
    return name;
  }

  /** One server's points. */
  final class Part {
    private final Supplier<List<HistogramDataPointSnapshot>> points;

    private Part(Supplier<List<HistogramDataPointSnapshot>> points) {
      this.points = points;
    }

    /** Removes these points; the last part unregisters the family. Called under the caller's lock. */
    void remove() {
      if (parts.remove(this) && parts.isEmpty()) {
        registry.unregister(HistogramFamily.this);
        onEmpty.run();
      }
    }
  }
}
