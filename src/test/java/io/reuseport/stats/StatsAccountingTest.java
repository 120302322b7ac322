package io.reuseport.stats;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exact accounting: what a client did is what {@code /stats?fresh=true} and {@code /metrics} say, in total and summed
 * over the instances.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class StatsAccountingTest {

  private static final int CONNECTIONS = 40;
  private static final int TCP_BYTES = 100;
  private static final int DATAGRAMS = 60;
  private static final int DATAGRAM_BYTES = 33;
  private static final Pattern SAMPLE = Pattern.compile("^(reuseport_[a-z_]+)\\{worker=\"(\\d+)\"} (\\S+)$");

  private RunningServer server;

  @BeforeEach
  void start(VertxTestContext test) {
    AsyncServers.start(new JsonObject().put("instances", 3).put("statsIntervalMs", 60_000))
        .onComplete(test.succeeding(started -> {
          server = started;
          test.completeNow();
        }));
  }

  @AfterEach
  void stop(VertxTestContext test) {
    server.stop().onComplete(test.succeedingThenComplete());
  }

  @Test
  void freshStatsAndMetricsCountExactlyWhatWasSent(Vertx vertx, VertxTestContext test) {
    HttpClient http = vertx.createHttpClient();
    // kept until the connections are done: Vert.x 5 closes a client nothing refers to when the GC runs
    NetClient client = vertx.createNetClient();
    Future<Void> sent = Future.succeededFuture();
    for (int i = 0; i < CONNECTIONS; i++) {
      sent = sent.compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
          .compose(socket -> VertxClients.exchange(socket, Buffer.buffer(new byte[TCP_BYTES]), TCP_BYTES)
              .compose(echoed -> socket.close()));
    }
    sent = sent.eventually(client::close);
    for (int i = 0; i < DATAGRAMS; i++) {
      // a socket per datagram: fresh source ports, spread over the instances
      sent = sent.compose(v -> VertxClients.Udp.open(vertx))
          .compose(udp -> udp.request(server.port(), Buffer.buffer(new byte[DATAGRAM_BYTES]))
              .compose(reply -> udp.close()));
    }
    sent.compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "active", 0))
        // in turn: the fresh request also brings the meters of /metrics up to date
        .compose(v -> VertxClients.get(http, server.adminPort(), "/stats?fresh=true"))
        .compose(stats -> VertxClients.get(http, server.adminPort(), "/metrics")
            .map(metrics -> List.of(stats, metrics)))
        .onComplete(test.succeeding(answers -> test.verify(() -> {
          assertThat(answers.get(0).status()).isEqualTo(200);
          check(new JsonObject(answers.get(0).body()), answers.get(1).body());
          test.completeNow();
        })));
  }

  private void check(JsonObject stats, String metricsText) {
    // the stats interval is a minute: only the fresh request can know all this
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

    Map<String, Double> metrics = perInstanceSums(metricsText);
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
