package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.reuseport.stats.Fairness;
import io.reuseport.stats.StatsCollector;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Exposes the collector's view as Micrometer meters: per instance (label {@code instance}, bounded by the instance
 * count; never a client address) and fairness gauges. Meters read the collector's latest snapshots when scraped.
 */
public final class StatsMeters {

  private StatsMeters() {
  }

  public static void bind(MeterRegistry registry, StatsCollector collector, int instances) {
    for (int i = 0; i < instances; i++) {
      int id = i;
      String instance = Integer.toString(i);
      counter(registry, "reuseport.tcp.connections.accepted", "TCP connections accepted", instance,
          collector, c -> value(c, id, "tcp", "accepted"));
      counter(registry, "reuseport.tcp.connections.rejected", "TCP connections over the limit, closed at once",
          instance, collector, c -> value(c, id, "tcp", "rejected"));
      counter(registry, "reuseport.tcp.connections.closed", "TCP connections closed", instance,
          collector, c -> value(c, id, "tcp", "closed"));
      Gauge.builder("reuseport.tcp.connections.active", collector, c -> value(c, id, "tcp", "active"))
          .description("TCP connections open").tag("instance", instance).register(registry);
      counter(registry, "reuseport.tcp.bytes.received", "TCP bytes received", instance,
          collector, c -> value(c, id, "tcp", "bytesIn"));
      counter(registry, "reuseport.tcp.bytes.sent", "TCP bytes sent", instance,
          collector, c -> value(c, id, "tcp", "bytesOut"));
      counter(registry, "reuseport.tcp.errors", "TCP connection and service errors", instance,
          collector, c -> value(c, id, "tcp", "errors"));
      counter(registry, "reuseport.udp.datagrams.received", "UDP datagrams received", instance,
          collector, c -> value(c, id, "udp", "datagramsIn"));
      counter(registry, "reuseport.udp.datagrams.sent", "UDP datagrams sent", instance,
          collector, c -> value(c, id, "udp", "datagramsOut"));
      counter(registry, "reuseport.udp.bytes.received", "UDP bytes received", instance,
          collector, c -> value(c, id, "udp", "bytesIn"));
      counter(registry, "reuseport.udp.bytes.sent", "UDP bytes sent", instance,
          collector, c -> value(c, id, "udp", "bytesOut"));
      counter(registry, "reuseport.udp.errors", "UDP service and socket errors", instance,
          collector, c -> value(c, id, "udp", "errors"));
      counter(registry, "reuseport.udp.reply.drops", "UDP replies dropped, send queue full", instance,
          collector, c -> value(c, id, "udp", "replyDrops"));
    }
    fairness(registry, "tcp", "start", collector, c -> c.tcpSinceStart());
    fairness(registry, "udp", "start", collector, c -> c.udpSinceStart());
    fairness(registry, "tcp", "interval", collector, StatsCollector::tcpInterval);
    fairness(registry, "udp", "interval", collector, StatsCollector::udpInterval);
    Gauge.builder("reuseport.group.foreign", collector, c -> c.group().foreignTcp())
        .description("sockets of another process in the port's reuseport group").tag("protocol", "tcp")
        .register(registry);
    Gauge.builder("reuseport.group.foreign", collector, c -> c.group().foreignUdp())
        .description("sockets of another process in the port's reuseport group").tag("protocol", "udp")
        .register(registry);
  }

  private static void counter(MeterRegistry registry, String name, String description, String instance,
                              StatsCollector collector, ToDoubleFunction<StatsCollector> f) {
    FunctionCounter.builder(name, collector, f).description(description).tag("instance", instance)
        .register(registry);
  }

  private static void fairness(MeterRegistry registry, String kind, String window, StatsCollector collector,
                               Function<StatsCollector, Fairness> f) {
    Gauge.builder("reuseport.fairness.jain", collector, c -> f.apply(c).jain())
        .description("Jain's fairness index over the instances (1 = even, 1/n = one instance takes all)")
        .tag("kind", kind).tag("window", window).register(registry);
  }

  private static double value(StatsCollector collector, int id, String group, String key) {
    JsonObject snapshot = collector.latest(id);
    return snapshot == null ? 0 : snapshot.getJsonObject(group).getLong(key);
  }
}
