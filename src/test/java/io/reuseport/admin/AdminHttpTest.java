package io.reuseport.admin;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin server's HTTP surface: every route answers, anything else is a JSON 4xx, and the service is unaffected.
 * Requests that an HTTP client would not send go out as raw bytes over a {@code NetSocket}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class AdminHttpTest {

  /** A sample line of the Prometheus text format: name, optional labels, value. */
  private static final Pattern SAMPLE = Pattern.compile(
      "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*})? "
          + "(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?$");
  private static final Pattern COMMENT = Pattern.compile("^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$");

  private static RunningServer server;

  /** An HTTP answer with its headers. */
  private record Reply(int status, MultiMap headers, String body) {
  }

  @BeforeAll
  static void start(VertxTestContext test) {
    AsyncServers.start(new JsonObject()).onComplete(test.succeeding(started -> {
      server = started;
      test.completeNow();
    }));
  }

  @AfterAll
  static void stop(VertxTestContext test) {
    (server == null ? Future.<Void>succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @Test
  void everyRouteAnswers(Vertx vertx, VertxTestContext test) {
    HttpClient http = vertx.createHttpClient();
    List<String> paths = AdminRoutes.all().stream().filter(path -> !path.equals(AdminRoutes.EVENTS)).toList();
    Checkpoint answered = test.checkpoint(paths.size());
    for (String path : paths) {
      VertxClients.get(http, server.adminPort(), path).onComplete(test.succeeding(answer -> test.verify(() -> {
        assertThat(answer.status()).as(path).isEqualTo(200);
        answered.flag();
      })));
    }
  }

  @Test
  void unknownPathIs404WithJson(Vertx vertx, VertxTestContext test) {
    send(vertx.createHttpClient(), HttpMethod.GET, "/nope").onComplete(test.succeeding(r -> test.verify(() -> {
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
      assertThat(new JsonObject(r.body()).getString("error")).contains("/nope");
      test.completeNow();
    })));
  }

  @Test
  void unknownMethodIs405(Vertx vertx, VertxTestContext test) {
    send(vertx.createHttpClient(), HttpMethod.valueOf("BREW"), AdminRoutes.STATS)
        .onComplete(test.succeeding(r -> test.verify(() -> {
          assertThat(r.status()).isEqualTo(405);
          test.completeNow();
        })));
  }

  @Test
  void wrongMethodIs405WithAllow(Vertx vertx, VertxTestContext test) {
    send(vertx.createHttpClient(), HttpMethod.DELETE, AdminRoutes.STATS)
        .onComplete(test.succeeding(r -> test.verify(() -> {
          assertThat(r.status()).isEqualTo(405);
          assertThat(r.headers().get("Allow")).isEqualTo("GET, HEAD");
          assertThat(new JsonObject(r.body()).getInteger("status")).isEqualTo(405);
          test.completeNow();
        })));
  }

  @Test
  void malformedRequestIs400AndTheServiceKeepsServing(Vertx vertx, VertxTestContext test) {
    // kept until the end: Vert.x 5 closes a client nothing refers to when the GC runs, connections and all
    NetClient client = vertx.createNetClient();
    rawHead(vertx, "GET /stats HTTP/1.1\r\nHost: x\r\nthis line is no header\r\n\r\n")
        .compose(status -> {
          test.verify(() -> assertThat(status).isEqualTo("HTTP/1.1 400"));
          return client.connect(server.port(), VertxClients.LOOPBACK);
        })
        .compose(socket -> VertxClients.exchange(socket, Buffer.buffer(new byte[] {9}), 1)
            .andThen(echoed -> socket.close()))
        .eventually(client::close)
        .compose(echoed -> {
          test.verify(() -> assertThat(echoed.getByte(0)).isEqualTo((byte) 9));
          return expectLive(test, vertx.createHttpClient());
        })
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void oversizedHeaderIs431AndOverlongUriIs414(Vertx vertx, VertxTestContext test) {
    rawHead(vertx, "GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(100_000) + "\r\n\r\n")
        .compose(head -> {
          test.verify(() -> assertThat(statusOf(head)).isEqualTo("431"));
          return rawHead(vertx, "GET /stats?q=" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        })
        .compose(head -> {
          test.verify(() -> assertThat(statusOf(head)).isEqualTo("414"));
          return expectLive(test, vertx.createHttpClient());
        })
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void metricsIsPrometheusText(Vertx vertx, VertxTestContext test) {
    send(vertx.createHttpClient(), HttpMethod.GET, AdminRoutes.METRICS)
        .onComplete(test.succeeding(r -> test.verify(() -> {
          assertThat(r.status()).isEqualTo(200);
          assertThat(r.headers().get("Content-Type")).startsWith("text/plain");
          for (String line : r.body().split("\n")) {
            if (!line.isEmpty()) {
              assertThat(SAMPLE.matcher(line).matches() || COMMENT.matcher(line).matches()).as(line).isTrue();
            }
          }
          assertThat(r.body())
              .contains("reuseport_tcp_connections_accepted_total{worker=\"0\"}")
              .contains("reuseport_tcp_connections_active{worker=\"1\"}")
              .contains("reuseport_fairness_jain{kind=\"tcp\"")
              .contains("reuseport_fairness_jain{kind=\"udp\"")
              .contains("reuseport_udp_drops_total{worker=\"1\"}")
              .contains("reuseport_tcp_accept_failures_total{worker=\"0\"}")
              .contains("reuseport_instance_stale{worker=\"0\"} 0.0")
              .contains("reuseport_ready 1.0")
              .contains("reuseport_admin_connections_rejected_total 0.0")
              // Vert.x's own metrics, through the same registry
              .contains("vertx_");
          test.completeNow();
        })));
  }

  private static Future<Reply> send(HttpClient http, HttpMethod method, String path) {
    return http.request(method, server.adminPort(), VertxClients.LOOPBACK, path)
        .compose(request -> request.send())
        .compose(response -> response.body()
            .map(body -> new Reply(response.statusCode(), response.headers(), body.toString())));
  }

  private static Future<Void> expectLive(VertxTestContext test, HttpClient http) {
    return VertxClients.get(http, server.adminPort(), AdminRoutes.LIVE).map(answer -> {
      test.verify(() -> assertThat(answer.status()).isEqualTo(200));
      return null;
    });
  }

  /** The first 12 bytes of the answer to raw {@code request}: "HTTP/1.x NNN". */
  private static Future<String> rawHead(Vertx vertx, String request) {
    return VertxClients.head(vertx, server.adminPort(), Buffer.buffer(request.getBytes(StandardCharsets.ISO_8859_1)),
        12).map(head -> head.toString(StandardCharsets.ISO_8859_1));
  }

  /** The status of a head: a request line that was never read whole gets an HTTP/1.0 answer. */
  private static String statusOf(String head) {
    return head.substring(9);
  }
}
