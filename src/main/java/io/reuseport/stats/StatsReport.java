package io.reuseport.stats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.List;

/**
 * Builds the {@code /stats} document from the collector's state: per-instance counters and rates, totals, fairness
 * since start and over the last interval, stale instances, and the kernel's view of the port's group. The counters
 * become JSON here, through {@link SnapshotJson}, and nowhere before.
 */
final class StatsReport {

  /**
   * Which process answers: its pid and when its JVM started. A takeover or a restart puts another process behind the
   * same admin port, with counters from zero; a client comparing two reports (the {@code load} command) checks this.
   */
  private static final JsonObject PROCESS = new JsonObject()
      .put("pid", ProcessHandle.current().pid())
      .put("startedAt", Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime()).toString());

  private StatsReport() {
  }

  static JsonObject build(StatsCollectorOptions settings, InstanceSnapshot[] latest, long[] ageMs, Rates[] rates,
                          PortGroup group, Fairness tcpInterval, Fairness udpInterval, Fairness httpInterval,
                          List<Integer> stale, long uptimeMs) {
    JsonArray instances = new JsonArray();
    InstanceSnapshot.TcpCounts tcpTotals = InstanceSnapshot.TcpCounts.ZERO;
    InstanceSnapshot.UdpCounts udpTotals = InstanceSnapshot.UdpCounts.ZERO;
    InstanceSnapshot.HttpCounts httpTotals = InstanceSnapshot.HttpCounts.ZERO;
    long dropTotal = 0;
    JsonArray draining = new JsonArray();
    long[] accepted = new long[latest.length];
    long[] datagrams = new long[latest.length];
    long[] requests = new long[latest.length];
    for (int i = 0; i < latest.length; i++) {
      InstanceSnapshot snapshot = latest[i] == null ? InstanceSnapshot.empty(i) : latest[i];
      long drops = group.udpDropsByFd().getOrDefault(snapshot.udpFd(), 0L);
      tcpTotals = tcpTotals.plus(snapshot.tcp());
      udpTotals = udpTotals.plus(snapshot.udp());
      httpTotals = httpTotals.plus(snapshot.http());
      dropTotal += drops;
      accepted[i] = snapshot.tcp().accepted();
      datagrams[i] = snapshot.udp().datagramsIn();
      requests[i] = snapshot.http().requests();
      if (snapshot.draining()) {
        draining.add(i);
      }
      instances.add(new JsonObject()
          .put("id", i)
          .put("eventLoop", snapshot.eventLoop())
          .put(SnapshotJson.TCP, SnapshotJson.tcp(snapshot.tcp()))
          .put(SnapshotJson.UDP, SnapshotJson.udp(snapshot.udp(), drops))
          .put(SnapshotJson.HTTP, SnapshotJson.http(snapshot.http()))
          .put("rates", SnapshotJson.rates(rates[i]))
          .put("ageMs", latest[i] == null ? null : ageMs[i])
          .put("stale", stale.contains(i))
          .put("draining", snapshot.draining()));
    }
    return new JsonObject()
        .put("transport", settings.transport())
        .put("balancing", settings.balancing())
        .put("http", settings.http())
        .put("port", settings.port())
        .put("process", PROCESS.copy())
        .put("uptimeMs", uptimeMs)
        .put("statsIntervalMs", settings.intervalMs())
        .put("instances", instances)
        .put("totals", new JsonObject()
            .put(SnapshotJson.TCP, SnapshotJson.tcp(tcpTotals))
            .put(SnapshotJson.UDP, SnapshotJson.udp(udpTotals, dropTotal))
            .put(SnapshotJson.HTTP, SnapshotJson.http(httpTotals)))
        .put("fairness", new JsonObject()
            .put("tcpAccepted", Fairness.of(accepted).toJson().put("lastInterval", tcpInterval.toJson()))
            .put("udpDatagramsIn", Fairness.of(datagrams).toJson().put("lastInterval", udpInterval.toJson()))
            .put("httpRequests", Fairness.of(requests).toJson().put("lastInterval", httpInterval.toJson())))
        .put("stale", new JsonArray(List.copyOf(stale)))
        .put("draining", draining)
        .put("group", group.toJson());
  }
}
