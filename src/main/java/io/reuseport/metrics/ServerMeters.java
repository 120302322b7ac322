package io.reuseport.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * One server's meters on a Prometheus registry that an embedding application may share between servers. With a
 * name, every series the server registers carries the label {@code server="<name>"}; without one, none.
 *
 * <p>A registry holds either one unnamed server or any number of named ones, each name once: anything else would
 * register the same series twice, which Micrometer resolves silently by handing back the first server's meter (the
 * second server's counters would read the first one's numbers), or would mix series with and without the
 * {@code server} label under one name, which Prometheus refuses. {@link #claim} refuses that at deploy, naming what
 * to do. {@link #close()} removes every meter the server registered, so that a stopped server's series disappear
 * instead of reporting its last numbers for ever.
 */
public final class ServerMeters {

  /** The label naming the server, on every series of a named server. */
  public static final String SERVER_LABEL = "server";
  /** What a server's name may be: short and plain, since it becomes a label value on every series. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** The names of the servers holding meters on each registry ("" for an unnamed one). Guarded by itself. */
  private static final Map<PrometheusMeterRegistry, RegistryShare> SHARES = new IdentityHashMap<>();

  private final PrometheusMeterRegistry registry;
  /** The server's name, or "" for none. */
  private final String name;
  private final Tags serverTags;
  private final List<Meter> meters = new CopyOnWriteArrayList<>();
  private final List<HistogramFamily.Part> histograms = new CopyOnWriteArrayList<>();
  private boolean closed;

  private ServerMeters(PrometheusMeterRegistry registry, String name) {
    this.registry = registry;
    this.name = name;
    this.serverTags = name.isEmpty() ? Tags.empty() : Tags.of(SERVER_LABEL, name);
  }

  /**
   * Claims {@code registry} for the meters of a server named {@code name} (null or empty: unnamed).
   *
   * @throws IllegalArgumentException when the name is not one of {@link #NAME}
   * @throws IllegalStateException when the registry already holds the meters of a server that would clash
   */
  public static ServerMeters claim(PrometheusMeterRegistry registry, String name) {
    String own = name == null ? "" : name;
    checkName(own);
    synchronized (SHARES) {
      RegistryShare share = SHARES.computeIfAbsent(registry, r -> new RegistryShare());
      String clash = share.clash(own);
      if (clash != null) {
        throw new IllegalStateException("the meter registry already holds the meters of a reuseport server "
            + (clash.isEmpty() ? "without a name" : "named '" + clash + "'") + ": "
            + (own.isEmpty() ? "this one has no name either" : "this one is named '" + own + "'")
            + "; give each server on a shared registry its own name with ServerDeployOptions.setMetricsName(...)"
            + " (it becomes the label server=\"...\" of its series)");
      }
      share.servers.add(own);
    }
    return new ServerMeters(registry, own);
  }

  /** Throws when {@code name} cannot name a server's series; "" (no name) is fine. */
  public static void checkName(String name) {
    if (name != null && !name.isEmpty() && !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("metrics name '" + name + "' is not 1 to 64 letters, digits, '_', '.' or"
          + " '-': it becomes the label server=\"...\" of every series");
    }
  }

  /** The registry the meters go to; {@code /metrics} serves the whole of it, other servers' series too. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The server's name, or "" for none. */
  public String name() {
    return name;
  }

  /** Registers the gauge with the server's label. */
  public Gauge gauge(Gauge.Builder<?> builder) {
    return track(builder.tags(serverTags).register(registry));
  }

  /** Registers the counter with the server's label. */
  public FunctionCounter counter(FunctionCounter.Builder<?> builder) {
    return track(builder.tags(serverTags).register(registry));
  }

  /** {@code namesAndValues} as Prometheus labels, with the server's label: for the data points of a histogram. */
  public Labels labels(String... namesAndValues) {
    Labels labels = Labels.of(namesAndValues);
    return name.isEmpty() ? labels : labels.add(SERVER_LABEL, name);
  }

  /**
   * Adds this server's data points to the classic histogram {@code prometheusName} (one family per registry, shared
   * by its servers, since the Prometheus registry takes each name once). {@code points} runs at each scrape; its
   * points carry {@link #labels}.
   */
  public void histogram(String prometheusName, String help, Supplier<List<HistogramDataPointSnapshot>> points) {
    synchronized (SHARES) {
      if (closed) {
        throw new IllegalStateException("server '" + name + "' already removed its meters");
      }
      histograms.add(SHARES.get(registry).histogram(registry, prometheusName, help).add(points));
    }
  }

  /** Removes every meter and histogram point this server registered, and frees its name on the registry. */
  public void close() {
    synchronized (SHARES) {
      if (closed) {
        return;
      }
      closed = true;
      meters.forEach(registry::remove);
      histograms.forEach(HistogramFamily.Part::remove);
      RegistryShare share = SHARES.get(registry);
      share.servers.remove(name);
      if (share.servers.isEmpty()) {
        SHARES.remove(registry);
      }
    }
  }

  private <M extends Meter> M track(M meter) {
    meters.add(meter);
    return meter;
  }

  /** The servers on one registry, and the histogram families they share. */
  private static final class RegistryShare {
    private final List<String> servers = new CopyOnWriteArrayList<>();
    private final Map<String, HistogramFamily> histograms = new HashMap<>();

    /** The server that {@code name} would clash with, or null. */
    String clash(String name) {
      if (name.isEmpty()) {
        return servers.isEmpty() ? null : servers.get(0);
      }
      return servers.contains("") ? "" : servers.contains(name) ? name : null;
    }

    HistogramFamily histogram(PrometheusMeterRegistry registry, String name, String help) {
      return histograms.computeIfAbsent(name, n -> new HistogramFamily(registry.getPrometheusRegistry(), n, help,
          () -> histograms.remove(n)));
    }
  }
}
