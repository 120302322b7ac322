package io.reuseport.k8s;

import io.reuseport.admin.AdminRoutes;
import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The server's per-instance label survives a real Prometheus scrape: Debian's {@code prometheus} runs on a loopback
 * port with a temporary configuration and data directory, scrapes the admin port of a server in this JVM every
 * second, and its HTTP API gives back series with the server's {@code worker} label and the target's own
 * {@code instance} label, both intact. The control, in the same Prometheus: a target that labels its series
 * {@code instance}, as the server did before, gets that label renamed to {@code exported_instance}. Skipped where
 * the {@code prometheus} binary is missing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
// vertx-junit5 bounds its test contexts by its own @Timeout only (30 s without); JUnit's bounds the rest
@io.vertx.junit5.Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class PrometheusScrapeTest {

  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final String LOOPBACK = "127.0.0.1";
  private static final int INSTANCES = 2;
  private static final long POLL_MS = 250;
  /** A metric with the label name that clashes with Prometheus's target label, as the server exported it before. */
  private static final String CLASHING = "clashing_total{instance=\"0\"} 1\n";
  /** Prometheus's log line that names the address its web listener actually bound. */
  private static final Pattern LISTENING = Pattern.compile(
      "msg=\"Listening on\" address=" + Pattern.quote(LOOPBACK) + ":(\\d+)");

  private RunningServer server;
  private HttpServer clashing;
  private Process prometheus;

  @AfterEach
  void stop(VertxTestContext test) throws InterruptedException {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly().waitFor();
      }
    }
    Future.join(server == null ? Future.succeededFuture() : server.stop(),
            clashing == null ? Future.succeededFuture() : clashing.close())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void seriesKeepTheWorkerLabelAndTheTargetsInstanceLabel(Vertx vertx, VertxTestContext test,
                                                          @TempDir Path dir) throws IOException {
    assumeTrue(Files.isExecutable(PROMETHEUS), "needs Debian's prometheus (apt-get install prometheus)");
    HttpClient http = vertx.createHttpClient();
    Future.all(AsyncServers.start(new JsonObject().put("instances", INSTANCES)),
            vertx.createHttpServer().requestHandler(request -> request.response().end(CLASHING)).listen(0, LOOPBACK))
        .compose(started -> {
          server = started.resultAt(0);
          clashing = started.resultAt(1);
          try {
            prometheus = startPrometheus(dir, server.adminPort(), clashing.actualPort());
          } catch (IOException e) {
            return Future.failedFuture(e);
          }
          return listeningPort(vertx, prometheus, dir.resolve("prometheus.log"));
        })
        .compose(prometheusPort -> {
          String target = LOOPBACK + ":" + server.adminPort();
          Future<JsonArray> workers = poll(vertx, http, prometheusPort,
              "reuseport_tcp_connections_accepted_total", series -> series.size() == INSTANCES);
          Future<JsonArray> control = poll(vertx, http, prometheusPort, "clashing_total",
              series -> series.size() == 1);
          return Future.all(workers, control).onComplete(test.succeeding(both -> test.verify(() -> {
            List<String> seen = new ArrayList<>();
            for (Object s : both.<JsonArray>resultAt(0)) {
              JsonObject labels = ((JsonObject) s).getJsonObject("metric");
              assertThat(labels.getString("instance")).as("the target's own label: %s", labels).isEqualTo(target);
              assertThat(labels.getString("job")).isEqualTo("reuseport");
              assertThat(labels.containsKey("exported_instance")).as("renamed label in %s", labels).isFalse();
              seen.add(labels.getString("worker"));
            }
            assertThat(seen).as("the worker label of each instance").containsExactlyInAnyOrder("0", "1");
            JsonObject clash = both.<JsonArray>resultAt(1).getJsonObject(0).getJsonObject("metric");
            assertThat(clash.getString("exported_instance")).as("control: the clashing label, renamed: %s", clash)
                .isEqualTo("0");
            assertThat(clash.getString("instance")).isEqualTo(LOOPBACK + ":" + clashing.actualPort());
            test.completeNow();
          })));
        })
        .onFailure(test::failNow);
  }

  /**
   * Prometheus on a loopback port the kernel picks (port 0: no port chosen here can be taken by another process
   * before Prometheus binds it), scraping the server's admin port and the clashing target every second.
   */
  private static Process startPrometheus(Path dir, int adminPort, int clashingPort) throws IOException {
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, String.join("\n",
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: reuseport",
        "    metrics_path: " + AdminRoutes.METRICS,
        "    static_configs:",
        "      - targets: ['" + LOOPBACK + ":" + adminPort + "']",
        "  - job_name: clashing",
        "    static_configs:",
        "      - targets: ['" + LOOPBACK + ":" + clashingPort + "']",
        ""), StandardCharsets.UTF_8);
    return new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=" + LOOPBACK + ":0",
        // info: the line that names the port actually bound
        "--log.level=info")
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
  }

  /**
   * Asks Prometheus's query API for {@code query} every {@value #POLL_MS} ms until its result satisfies
   * {@code done}: until Prometheus is up and has scraped. The test's timeout bounds it.
   */
  private static Future<JsonArray> poll(Vertx vertx, HttpClient http, int port, String query,
                                        Predicate<JsonArray> done) {
    String uri = "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8);
    return http.request(HttpMethod.GET, port, LOOPBACK, uri)
        .compose(request -> request.send())
        .compose(response -> response.body())
        .map(body -> body.toJsonObject().getJsonObject("data").getJsonArray("result"))
        // not up yet (connection refused) or not scraped yet: ask again
        .otherwiseEmpty()
        .compose(result -> result != null && done.test(result) ? Future.succeededFuture(result)
            : vertx.timer(POLL_MS).compose(t -> poll(vertx, http, port, query, done)));
  }

  /**
   * The port Prometheus bound, read back from its log line {@code msg="Listening on" address=127.0.0.1:PORT}, looked
   * for every {@value #POLL_MS} ms; fails with the log should Prometheus exit first. The test's timeout bounds it.
   */
  private static Future<Integer> listeningPort(Vertx vertx, Process prometheus, Path log) {
    String text;
    try {
      text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    Matcher listening = LISTENING.matcher(text);
    if (listening.find()) {
      return Future.succeededFuture(Integer.parseInt(listening.group(1)));
    }
    if (!prometheus.isAlive()) {
      return Future.failedFuture("prometheus exited (" + prometheus.exitValue() + ") before listening: " + text);
    }
    return vertx.timer(POLL_MS).compose(t -> listeningPort(vertx, prometheus, log));
  }
}
