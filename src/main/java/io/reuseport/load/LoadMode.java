package io.reuseport.load;

import io.reuseport.stats.SnapshotJson;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the load generator does per request, and which server counter shows where its work landed.
 */
enum LoadMode {
  /** Connect, send, read the echo, close: one new source port per request. */
  TCP_CHURN("tcp-churn", "conn/s", SnapshotJson.TCP, SnapshotJson.ACCEPTED),
  /** Persistent connections, one payload in flight on each. */
  TCP_ECHO("tcp-echo", "msg/s", SnapshotJson.TCP, SnapshotJson.ACCEPTED),
  /** One UDP socket (source port) per flow, one datagram in flight on each. */
  UDP_ECHO("udp-echo", "dgram/s", SnapshotJson.UDP, SnapshotJson.DATAGRAMS_IN);

  private final String id;
  private final String unit;
  private final String statsSection;
  private final String statsField;

  LoadMode(String id, String unit, String statsSection, String statsField) {
    this.id = id;
    this.unit = unit;
    this.statsSection = statsSection;
    this.statsField = statsField;
  }

  String id() {
    return id;
  }

  /** Unit of the throughput, e.g. {@code conn/s}. */
  String unit() {
    return unit;
  }

  /** Section of {@code instances[]} in the server's /stats that counts this mode's work. */
  String statsSection() {
    return statsSection;
  }

  String statsField() {
    return statsField;
  }

  boolean udp() {
    return this == UDP_ECHO;
  }

  /** JSON name of the client's own count of what {@link #statsMetric()} counts on the server. */
  String clientCountName() {
    return udp() ? "clientDatagramsSent" : "clientConnections";
  }

  /** The same for text, e.g. "the client opened 64 connections". */
  String clientCountText(long count) {
    return String.format(Locale.ROOT, udp() ? "the client sent %,d datagrams" : "the client opened %,d connections",
        count);
  }

  String statsMetric() {
    return statsSection + "." + statsField;
  }

  static LoadMode parse(String text) {
    for (LoadMode m : values()) {
      if (m.id.equals(text)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown mode '" + text + "'; one of "
        + Arrays.stream(values()).map(LoadMode::id).collect(Collectors.joining(", ")));
  }
}
