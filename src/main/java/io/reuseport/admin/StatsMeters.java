package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.reuseport.stats.Fairness;
import io.reuseport.stats.StatsCollector;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * Exposes the collector's view as Micrometer meters: per instance (label {@code instance}, bounded by the instance
 * count; never a client address) and fairness gauges. Meters read the collector's latest snapshots when scraped.
 */
public final class StatsMeters {

  private StatsMeters() {
  }

  /** Counters per instance: Micrometer name, help, snapshot group, snapshot key. */
  private static final String[][] COUNTERS = {
      {"reuseport.tcp.connections.accepted", "TCP connections accepted", "tcp", "accepted"},
      {"reuseport.tcp.connections.rejected", "TCP connections over the limit, closed at once", "tcp", "rejected"},
      {"reuseport.tcp.connections.closed", "TCP connections closed", "tcp", "closed"},
      {"reuseport.tcp.bytes.received", "TCP bytes received", "tcp", "bytesIn"},
      {"reuseport.tcp.bytes.sent", "TCP bytes sent", "tcp", "bytesOut"},
      {"reuseport.tcp.errors", "TCP connection and service errors", "tcp", "errors"},
      {"reuseport.udp.datagrams.received", "UDP datagrams received", "udp", "datagramsIn"},
      {"reuseport.udp.datagrams.sent", "UDP datagrams sent", "udp", "datagramsOut"},
      {"reuseport.udp.bytes.received", "UDP bytes received", "udp", "bytesIn"},
      {"reuseport.udp.bytes.sent", "UDP bytes sent", "udp", "bytesOut"},
      {"reuseport.udp.errors", "UDP service and socket errors", "udp", "errors"},
      {"reuseport.udp.reply.drops", "UDP replies dropped, send queue full", "udp", "replyDrops"},
      {"reuseport.tcp.accept.failures", "accept() calls that failed (EMFILE at the fd limit, ...); the connection"
          + " stays queued", "tcp", "acceptFailures"},
  };

  public static void bind(MeterRegistry registry, StatsCollector collector, int instances) {
    for (int i = 0; i < instances; i++) {
      int id = i;
      String instance = Integer.toString(i);
      for (String[] c : COUNTERS) {
        FunctionCounter.builder(c[0], collector, col -> value(col, id, c[2], c[3])).description(c[1])
            .tag("instance", instance).register(registry);
      }
      Gauge.builder("reuseport.tcp.connections.active", collector, col -> value(col, id, "tcp", "active"))
          .description("TCP connections open").tag("instance", instance).register(registry);
      health(registry, collector, id, instance);
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

  /** Per instance: kernel drops on its UDP socket, and whether its reports stopped coming. */
  private static void health(MeterRegistry registry, StatsCollector collector, int id, String instance) {
    FunctionCounter.builder("reuseport.udp.drops", collector, col -> col.udpDrops(id))
        .description("datagrams the kernel dropped on this instance's UDP socket (receive buffer full)")
        .tag("instance", instance).register(registry);
    Gauge.builder("reuseport.instance.stale", collector, col -> col.isStale(id) ? 1 : 0)
        .description("1 while this instance's reports stopped coming (event loop blocked?), else 0")
        .tag("instance", instance).register(registry);
  }

  private static void fairness(MeterRegistry registry, String kind, String window, StatsCollector collector,
                               Function<StatsCollector, Fairness> f) {
    Gauge.builder("reuseport.fairness.jain", collector, c -> f.apply(c).jain())
        .description("Jain's fairness index over the instances (1 = even, 1/n = one instance takes all)")
        .tag("kind", kind).tag("window", window).register(registry);
  }

  private static double value(StatsCollector collector, int id, String group, String key) {
    JsonObject snapshot = collector.latest(id);
    return snapshot == null ? 0 : snapshot.getJsonObject(group).getLong(key, 0L);
  }
}
