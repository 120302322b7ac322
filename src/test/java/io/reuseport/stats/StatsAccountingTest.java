package io.reuseport.stats;

import io.reuseport.server.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exact accounting: what a client did is what {@code /stats?fresh=true} and {@code /metrics} say, in total and summed
 * over the instances.
 */
@Timeout(60)
class StatsAccountingTest {

  private static final int CONNECTIONS = 40;
  private static final int TCP_BYTES = 100;
  private static final int DATAGRAMS = 60;
  private static final int DATAGRAM_BYTES = 33;
  private static final Pattern SAMPLE = Pattern.compile("^(reuseport_[a-z_]+)\\{instance=\"(\\d+)\"} (\\S+)$");

  private RunningServer server;

  @BeforeEach
  void start() {
    server = Servers.start(new JsonObject().put("instances", 3).put("statsIntervalMs", 60_000));
  }

  @AfterEach
  void stop() {
    server.stop().await();
  }

  @Test
  void freshStatsAndMetricsCountExactlyWhatWasSent() throws Exception {
    for (int i = 0; i < CONNECTIONS; i++) {
      try (Socket s = Clients.connect(server.port())) {
        s.getOutputStream().write(new byte[TCP_BYTES]);
        s.shutdownOutput();
        InputStream in = s.getInputStream();
        assertThat(in.readAllBytes()).hasSize(TCP_BYTES);
      }
    }
    for (int i = 0; i < DATAGRAMS; i++) {
      try (DatagramSocket u = Clients.udp()) {
        u.send(new DatagramPacket(new byte[DATAGRAM_BYTES], DATAGRAM_BYTES,
            new InetSocketAddress(Clients.LOOPBACK, server.port())));
        u.receive(new DatagramPacket(new byte[64], 64));
      }
    }
    // the stats interval is a minute: only the fresh request can know all this
    JsonObject stats = Admin.freshStats(server.adminPort());
    JsonObject tcp = stats.getJsonObject("totals").getJsonObject("tcp");
    JsonObject udp = stats.getJsonObject("totals").getJsonObject("udp");
    assertThat(tcp.getLong("accepted")).isEqualTo(CONNECTIONS);
    assertThat(tcp.getLong("bytesIn")).isEqualTo((long) CONNECTIONS * TCP_BYTES);
    assertThat(tcp.getLong("bytesOut")).isEqualTo((long) CONNECTIONS * TCP_BYTES);
    assertThat(udp.getLong("datagramsIn")).isEqualTo(DATAGRAMS);
    assertThat(udp.getLong("datagramsOut")).isEqualTo(DATAGRAMS);
    assertThat(udp.getLong("bytesIn")).isEqualTo((long) DATAGRAMS * DATAGRAM_BYTES);
    JsonArray instances = stats.getJsonArray("instances");
    assertThat(instances).hasSize(3);
    assertThat(sum(instances, "tcp", "accepted")).isEqualTo(CONNECTIONS);
    assertThat(sum(instances, "udp", "datagramsIn")).isEqualTo(DATAGRAMS);
    assertThat(stats.getString("transport")).isEqualTo("epoll");
    assertThat(stats.getString("balancing")).isEqualTo("reuseport");
    assertThat(stats.getInteger("port")).isEqualTo(server.port());
    assertThat(stats.getJsonObject("group").getInteger("tcpListeners")).isEqualTo(3);
    JsonObject fairness = stats.getJsonObject("fairness").getJsonObject("tcpAccepted");
    assertThat(fairness.getJsonObject("lastInterval")).isNotNull();
    assertThat(fairness.getLong("sample")).isEqualTo(CONNECTIONS);

    Map<String, Double> metrics = perInstanceSums(Admin.get(server.adminPort(), "/metrics").body());
    assertThat(metrics.get("reuseport_tcp_connections_accepted_total")).isEqualTo(CONNECTIONS);
    assertThat(metrics.get("reuseport_tcp_bytes_received_total")).isEqualTo(CONNECTIONS * TCP_BYTES);
    assertThat(metrics.get("reuseport_tcp_bytes_sent_total")).isEqualTo(CONNECTIONS * TCP_BYTES);
    assertThat(metrics.get("reuseport_udp_datagrams_received_total")).isEqualTo(DATAGRAMS);
    assertThat(metrics.get("reuseport_udp_datagrams_sent_total")).isEqualTo(DATAGRAMS);
    assertThat(metrics.get("reuseport_tcp_connections_active")).isZero();
  }

  private static long sum(JsonArray instances, String group, String key) {
    return instances.stream().mapToLong(o -> ((JsonObject) o).getJsonObject(group).getLong(key)).sum();
  }

  private static Map<String, Double> perInstanceSums(String text) {
    Map<String, Double> sums = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (m.matches()) {
        assertThat(Integer.parseInt(m.group(2))).as("instance label is bounded").isBetween(0, 2);
        sums.merge(m.group(1), Double.parseDouble(m.group(3)), Double::sum);
      }
    }
    return sums;
  }
}
