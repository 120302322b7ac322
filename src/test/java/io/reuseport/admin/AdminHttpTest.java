package io.reuseport.admin;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin server's HTTP surface: every route answers, anything else is a JSON 4xx, and the service is unaffected.
 */
@Timeout(60)
class AdminHttpTest {

  /** A sample line of the Prometheus text format: name, optional labels, value. */
  private static final Pattern SAMPLE = Pattern.compile(
      "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*})? "
          + "(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?$");
  private static final Pattern COMMENT = Pattern.compile("^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$");

  private static RunningServer server;

  @BeforeAll
  static void start() {
    server = Servers.start(new JsonObject());
  }

  @AfterAll
  static void stop() {
    server.stop().await();
  }

  @Test
  void everyRouteAnswers() throws Exception {
    for (String path : AdminRoutes.all()) {
      if (!path.equals(AdminRoutes.EVENTS)) {
        assertThat(Admin.get(server.adminPort(), path).statusCode()).as(path).isEqualTo(200);
      }
    }
  }

  @Test
  void unknownPathIs404WithJson() throws Exception {
    HttpResponse<String> r = Admin.get(server.adminPort(), "/nope");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new JsonObject(r.body()).getString("error")).contains("/nope");
  }

  @Test
  void unknownMethodIs405() throws Exception {
    assertThat(Admin.send(server.adminPort(), AdminRoutes.STATS, "BREW").statusCode()).isEqualTo(405);
  }

  @Test
  void wrongMethodIs405WithAllow() throws Exception {
    HttpResponse<String> r = Admin.send(server.adminPort(), AdminRoutes.STATS, "DELETE");
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertThat(new JsonObject(r.body()).getInteger("status")).isEqualTo(405);
  }

  @Test
  void malformedRequestIs400AndTheServiceKeepsServing() throws Exception {
    try (Socket s = new Socket(Clients.LOOPBACK, server.adminPort())) {
      OutputStream out = s.getOutputStream();
      out.write("GET /stats HTTP/1.1\r\nHost: x\r\nthis line is no header\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      String status = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
      assertThat(status).isEqualTo("HTTP/1.1 400");
    }
    try (Socket s = Clients.connect(server.port())) {
      s.getOutputStream().write(9);
      assertThat(s.getInputStream().read()).isEqualTo(9);
    }
    assertThat(Admin.get(server.adminPort(), AdminRoutes.LIVE).statusCode()).isEqualTo(200);
  }

  @Test
  void oversizedHeaderIs431AndOverlongUriIs414() throws Exception {
    assertThat(rawStatus("GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(100_000) + "\r\n\r\n"))
        .isEqualTo("431");
    assertThat(rawStatus("GET /stats?q=" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
        .isEqualTo("414");
    assertThat(Admin.get(server.adminPort(), AdminRoutes.LIVE).statusCode()).isEqualTo(200);
  }

  private static String rawStatus(String request) throws Exception {
    try (Socket s = new Socket(Clients.LOOPBACK, server.adminPort())) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      // "HTTP/1.x NNN": a request line that was never read whole gets an HTTP/1.0 answer
      return new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1).substring(9);
    }
  }

  @Test
  void metricsIsPrometheusText() throws Exception {
    HttpResponse<String> r = Admin.get(server.adminPort(), AdminRoutes.METRICS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    for (String line : r.body().split("\n")) {
      if (!line.isEmpty()) {
        assertThat(SAMPLE.matcher(line).matches() || COMMENT.matcher(line).matches()).as(line).isTrue();
      }
    }
    assertThat(r.body())
        .contains("reuseport_tcp_connections_accepted_total{instance=\"0\"}")
        .contains("reuseport_tcp_connections_active{instance=\"1\"}")
        .contains("reuseport_fairness_jain{kind=\"tcp\"")
        .contains("reuseport_fairness_jain{kind=\"udp\"")
        .contains("reuseport_udp_drops_total{instance=\"1\"}")
        .contains("reuseport_tcp_accept_failures_total{instance=\"0\"}")
        .contains("reuseport_instance_stale{instance=\"0\"} 0.0")
        .contains("reuseport_ready 1.0")
        .contains("reuseport_admin_connections_rejected_total 0.0")
        // Vert.x's own metrics, through the same registry
        .contains("vertx_");
  }
}
