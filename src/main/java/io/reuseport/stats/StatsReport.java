package io.reuseport.stats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Builds the {@code /stats} document from the collector's state: per-instance counters and rates, totals, fairness
 * since start and over the last interval, stale instances, and the kernel's view of the port's group.
 */
final class StatsReport {

  static final String[] TCP = {"accepted", "active", "closed", "rejected", "bytesIn", "bytesOut", "errors",
      "acceptFailures"};
  static final String[] UDP = {"datagramsIn", "datagramsOut", "bytesIn", "bytesOut", "errors", "replyDrops"};

  private StatsReport() {
  }

  static JsonObject build(StatsCollectorOptions settings, JsonObject[] latest, long[] ageMs, JsonObject[] rates,
                          PortGroup group, Fairness tcpInterval, Fairness udpInterval, List<Integer> stale,
                          long uptimeMs) {
    JsonArray instances = new JsonArray();
    JsonObject tcpTotals = zeros(TCP);
    JsonObject udpTotals = zeros(UDP);
    long[] accepted = new long[latest.length];
    long[] datagrams = new long[latest.length];
    for (int i = 0; i < latest.length; i++) {
      JsonObject snapshot = latest[i] == null ? empty(i) : latest[i];
      JsonObject tcp = snapshot.getJsonObject("tcp").copy();
      tcp.put("acceptFailures", tcp.getLong("acceptFailures", 0L));
      JsonObject udp = snapshot.getJsonObject("udp").copy();
      Long drops = group.udpDropsByFd().get(snapshot.getInteger("udpFd", -1));
      udp.put("drops", drops == null ? 0L : drops);
      add(tcpTotals, tcp, TCP);
      add(udpTotals, udp, UDP);
      accepted[i] = tcp.getLong("accepted");
      datagrams[i] = udp.getLong("datagramsIn");
      instances.add(new JsonObject()
          .put("id", i)
          .put("eventLoop", snapshot.getString("eventLoop"))
          .put("tcp", tcp)
          .put("udp", udp)
          .put("rates", rates[i] == null ? new JsonObject() : rates[i])
          .put("ageMs", latest[i] == null ? null : ageMs[i])
          .put("stale", stale.contains(i))
          .put("draining", snapshot.getBoolean("draining", false)));
    }
    udpTotals.put("drops", instances.stream().mapToLong(o -> ((JsonObject) o).getJsonObject("udp").getLong("drops"))
        .sum());
    return new JsonObject()
        .put("transport", settings.transport())
        .put("balancing", settings.balancing())
        .put("port", settings.port())
        .put("uptimeMs", uptimeMs)
        .put("statsIntervalMs", settings.intervalMs())
        .put("instances", instances)
        .put("totals", new JsonObject().put("tcp", tcpTotals).put("udp", udpTotals))
        .put("fairness", new JsonObject()
            .put("tcpAccepted", Fairness.of(accepted).toJson().put("lastInterval", tcpInterval.toJson()))
            .put("udpDatagramsIn", Fairness.of(datagrams).toJson().put("lastInterval", udpInterval.toJson())))
        .put("stale", new JsonArray(List.copyOf(stale)))
        .put("draining", new JsonArray(instances.stream().map(o -> (JsonObject) o)
            .filter(o -> o.getBoolean("draining")).map(o -> o.getInteger("id")).toList()))
        .put("group", group.toJson());
  }

  static JsonObject empty(int id) {
    return new JsonObject().put("id", id).put("eventLoop", null).put("udpFd", -1)
        .put("tcp", zeros(TCP)).put("udp", zeros(UDP));
  }

  private static JsonObject zeros(String[] keys) {
    JsonObject o = new JsonObject();
    for (String k : keys) {
      o.put(k, 0L);
    }
    return o;
  }

  private static void add(JsonObject into, JsonObject from, String[] keys) {
    for (String k : keys) {
      into.put(k, into.getLong(k) + from.getLong(k, 0L));
    }
  }
}
