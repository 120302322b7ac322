package io.reuseport.stats;

import io.vertx.core.json.JsonObject;

/**
 * The JSON names of the counters: the one place that spells them, for {@code /stats}, {@code /events} (the same
 * report) and whoever reads those, like the load client's probe. Everything before this edge passes
 * {@link InstanceSnapshot}s.
 */
public final class SnapshotJson {

  /** The TCP section of an instance or of the totals in {@code /stats}. */
  public static final String TCP = "tcp";
  /** The UDP section of an instance or of the totals in {@code /stats}. */
  public static final String UDP = "udp";
  /** The HTTP section of an instance or of the totals in {@code /stats}. */
  public static final String HTTP = "http";
  /** HTTP requests whose head arrived (in the {@link #HTTP} section). */
  public static final String REQUESTS = "requests";
  /** TCP connections accepted (in the {@link #TCP} section). */
  public static final String ACCEPTED = "accepted";
  /** UDP datagrams received (in the {@link #UDP} section). */
  public static final String DATAGRAMS_IN = "datagramsIn";

  private SnapshotJson() {
  }

  /** The {@link #TCP} section. */
  public static JsonObject tcp(InstanceSnapshot.TcpCounts c) {
    return new JsonObject()
        .put(ACCEPTED, c.accepted())
        .put("active", c.active())
        .put("closed", c.closed())
        .put("rejected", c.rejected())
        .put("bytesIn", c.bytesIn())
        .put("bytesOut", c.bytesOut())
        .put("errors", c.errors())
        .put("acceptFailures", c.acceptFailures())
        .put("resets", c.resets());
  }

  /**
   * The {@link #UDP} section.
   *
   * @param drops datagrams the kernel dropped on the socket (receive buffer full): not an instance's own count, the
   *     collector reads it from the kernel
   */
  public static JsonObject udp(InstanceSnapshot.UdpCounts c, long drops) {
    return new JsonObject()
        .put(DATAGRAMS_IN, c.datagramsIn())
        .put("datagramsOut", c.datagramsOut())
        .put("bytesIn", c.bytesIn())
        .put("bytesOut", c.bytesOut())
        .put("errors", c.errors())
        .put("replyDrops", c.replyDrops())
        .put("drops", drops);
  }

  /** The {@link #HTTP} section. */
  public static JsonObject http(InstanceSnapshot.HttpCounts c) {
    JsonObject byStatusClass = new JsonObject();
    for (int statusClass = 1; statusClass <= 5; statusClass++) {
      byStatusClass.put(statusClass + "xx", c.statusClass(statusClass));
    }
    return new JsonObject()
        .put(REQUESTS, c.requests())
        .put("active", c.active())
        .put("resets", c.resets())
        .put("tlsHandshakeFailures", c.tlsHandshakeFailures())
        .put("byStatusClass", byStatusClass)
        .put("latency", new JsonObject().put("p50Ms", c.p50Ms()).put("p99Ms", c.p99Ms()));
  }

  /** An instance's rates over the last interval; {@code {}} before the first interval. */
  static JsonObject rates(Rates r) {
    if (r == null) {
      return new JsonObject();
    }
    return new JsonObject()
        .put("tcpAcceptedPerSec", r.tcpAcceptedPerSec())
        .put("tcpBytesInPerSec", r.tcpBytesInPerSec())
        .put("udpDatagramsInPerSec", r.udpDatagramsInPerSec())
        .put("udpBytesInPerSec", r.udpBytesInPerSec())
        .put("httpRequestsPerSec", r.httpRequestsPerSec());
  }
}
