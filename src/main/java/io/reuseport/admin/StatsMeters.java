package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.stats.Fairness;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.stats.StatsCollector;

import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Exposes the collector's view as Micrometer meters: per instance (label {@code worker}, bounded by the instance
 * count; never a client address) and fairness gauges. Meters read the collector's latest snapshots when scraped.
 */
public final class StatsMeters {

  /** A counter per instance: Micrometer name, help, and where the snapshot has it. */
  private record InstanceCounter(String name, String help, ToLongFunction<InstanceSnapshot> value) {
  }

  private static final List<InstanceCounter> COUNTERS = List.of(
      new InstanceCounter("reuseport.tcp.connections.accepted", "TCP connections accepted",
          s -> s.tcp().accepted()),
      new InstanceCounter("reuseport.tcp.connections.rejected", "TCP connections over the limit, closed at once",
          s -> s.tcp().rejected()),
      new InstanceCounter("reuseport.tcp.connections.closed", "TCP connections closed", s -> s.tcp().closed()),
      new InstanceCounter("reuseport.tcp.bytes.received", "TCP bytes received", s -> s.tcp().bytesIn()),
      new InstanceCounter("reuseport.tcp.bytes.sent", "TCP bytes sent", s -> s.tcp().bytesOut()),
      new InstanceCounter("reuseport.tcp.errors", "TCP connections closed for a failure here (service error,"
          + " failed write to a live peer)", s -> s.tcp().errors()),
      new InstanceCounter("reuseport.tcp.peer.resets", "TCP connections the peer closed with a reset (SO_LINGER 0)",
          s -> s.tcp().resets()),
      new InstanceCounter("reuseport.udp.datagrams.received", "UDP datagrams received",
          s -> s.udp().datagramsIn()),
      new InstanceCounter("reuseport.udp.datagrams.sent", "UDP datagrams sent", s -> s.udp().datagramsOut()),
      new InstanceCounter("reuseport.udp.bytes.received", "UDP bytes received", s -> s.udp().bytesIn()),
      new InstanceCounter("reuseport.udp.bytes.sent", "UDP bytes sent", s -> s.udp().bytesOut()),
      new InstanceCounter("reuseport.udp.errors", "UDP service and socket errors", s -> s.udp().errors()),
      new InstanceCounter("reuseport.udp.reply.drops", "UDP replies dropped, send queue full",
          s -> s.udp().replyDrops()),
      new InstanceCounter("reuseport.tcp.accept.failures", "accept() calls that failed (EMFILE at the fd limit,"
          + " ...); the connection stays queued", s -> s.tcp().acceptFailures()));

  private StatsMeters() {
  }

  public static void bind(ServerMeters meters, StatsCollector collector, int instances) {
    for (int i = 0; i < instances; i++) {
      int id = i;
      String instance = Integer.toString(i);
      for (InstanceCounter c : COUNTERS) {
        meters.counter(FunctionCounter.builder(c.name(), collector, col -> value(col, id, c.value()))
            .description(c.help()).tag("worker", instance));
      }
      meters.gauge(Gauge.builder("reuseport.tcp.connections.active", collector,
              col -> value(col, id, s -> s.tcp().active()))
          .description("TCP connections open").tag("worker", instance));
      health(meters, collector, id, instance);
    }
    fairness(meters, "tcp", "start", collector, c -> c.tcpSinceStart());
    fairness(meters, "udp", "start", collector, c -> c.udpSinceStart());
    fairness(meters, "tcp", "interval", collector, StatsCollector::tcpInterval);
    fairness(meters, "udp", "interval", collector, StatsCollector::udpInterval);
    meters.gauge(Gauge.builder("reuseport.group.foreign", collector, c -> c.group().foreignTcp())
        .description("sockets of another process in the port's reuseport group").tag("protocol", "tcp"));
    meters.gauge(Gauge.builder("reuseport.group.foreign", collector, c -> c.group().foreignUdp())
        .description("sockets of another process in the port's reuseport group").tag("protocol", "udp"));
  }

  /** Per instance: kernel drops on its UDP socket, and whether its reports stopped coming. */
  private static void health(ServerMeters meters, StatsCollector collector, int id, String instance) {
    meters.counter(FunctionCounter.builder("reuseport.udp.drops", collector, col -> col.udpDrops(id))
        .description("datagrams the kernel dropped on this instance's UDP socket (receive buffer full)")
        .tag("worker", instance));
    meters.gauge(Gauge.builder("reuseport.instance.stale", collector, col -> col.isStale(id) ? 1 : 0)
        .description("1 while this instance's reports stopped coming (event loop blocked?), else 0")
        .tag("worker", instance));
  }

  private static void fairness(ServerMeters meters, String kind, String window, StatsCollector collector,
                               Function<StatsCollector, Fairness> f) {
    meters.gauge(Gauge.builder("reuseport.fairness.jain", collector, c -> f.apply(c).jain())
        .description("Jain's fairness index over the instances (1 = even, 1/n = one instance takes all)")
        .tag("kind", kind).tag("window", window));
  }

  private static double value(StatsCollector collector, int id, ToLongFunction<InstanceSnapshot> counter) {
    InstanceSnapshot snapshot = collector.latest(id);
    return snapshot == null ? 0 : counter.applyAsLong(snapshot);
  }
}
