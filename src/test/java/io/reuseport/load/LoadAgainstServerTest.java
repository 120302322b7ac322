package io.reuseport.load;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The load command against the real server on loopback: counts add up, limits stop the run, loss is counted.
 * Behaviour only; speed is measured by bench/compare.sh.
 */
@Timeout(60)
class LoadAgainstServerTest {

  private static RunningServer echo;
  private static RunningServer discard;

  @BeforeAll
  static void startServers() {
    echo = ReusePortServer.start(ConfigLoader.fromJson(new JsonObject().put("port", 0).put("instances", 2)
        .put("adminPort", 0))).await();
    discard = ReusePortServer.start(ConfigLoader.fromJson(new JsonObject().put("port", 0).put("instances", 2)
        .put("adminPort", 0).put("service", "discard"))).await();
  }

  @AfterAll
  static void stopServers() {
    if (echo != null) {
      echo.stop().await();
    }
    if (discard != null) {
      discard.stop().await();
    }
  }

  @Test
  void tcpChurnAttemptsExactlyMaxRequests() {
    JsonObject r = runJson("--mode", "tcp-churn", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "8",
        "--duration", "30s", "--max-requests", "200");
    assertAddsUp(r, 200);
    assertThat(r.getLong("successes")).isPositive();
  }

  @Test
  void tcpEchoAttemptsExactlyMaxRequests() {
    JsonObject r = runJson("--mode", "tcp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "4",
        "--duration", "30s", "--max-requests", "500", "--payload", "100");
    assertAddsUp(r, 500);
    assertThat(r.getLong("successes")).isPositive();
  }

  @Test
  void udpEchoAttemptsExactlyMaxRequests() {
    JsonObject r = runJson("--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "16",
        "--duration", "30s", "--max-requests", "300");
    assertAddsUp(r, 300);
    assertThat(r.getLong("successes")).isPositive();
  }

  @Test
  void warmupRequestsAreNotCounted() {
    JsonObject r = runJson("--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "4",
        "--duration", "30s", "--warmup", "500ms", "--max-requests", "50");
    assertAddsUp(r, 50);
  }

  @Test
  void udpWithoutEchoCountsEveryDatagramAsTimeout() {
    JsonObject r = runFailing("--mode", "udp-echo", "--target", "127.0.0.1:" + discard.port(), "--concurrency", "3",
        "--duration", "30s", "--max-requests", "6", "--timeout", "200ms");
    assertAddsUp(r, 6);
    assertThat(r.getLong("timeouts")).isEqualTo(6);
    assertThat(r.getLong("successes")).isZero();
    assertThat(r.getJsonObject("latencyUs").getLong("count")).isZero();
  }

  @Test
  void tcpWithoutEchoCountsTimeoutsAndKeepsGoing() {
    JsonObject r = runFailing("--mode", "tcp-echo", "--target", "127.0.0.1:" + discard.port(), "--concurrency", "2",
        "--duration", "30s", "--max-requests", "4", "--timeout", "200ms");
    assertAddsUp(r, 4);
    assertThat(r.getLong("timeouts")).isEqualTo(4);
  }

  @Test
  void refusedConnectionsCountAsErrorsAndFailTheRun() throws Exception {
    JsonObject r = runFailing("--mode", "tcp-churn", "--target", "127.0.0.1:" + closedPort(), "--concurrency", "2",
        "--duration", "30s", "--max-requests", "10", "--connect-retries", "100");
    assertAddsUp(r, 10);
    assertThat(r.getLong("errors")).isEqualTo(10);
    assertThat(r.getJsonObject("errorKinds")).isNotEmpty();
    assertThat(r.getBoolean("passed")).isFalse();
    assertThat(r.getString("failure")).contains("no request succeeded");
  }

  @Test
  void stopsByItselfAtTheDuration() {
    JsonObject r = runJson("--mode", "tcp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "4",
        "--duration", "1s");
    assertThat(r.getBoolean("complete")).isTrue();
    assertThat(r.getLong("requests")).isEqualTo(r.getLong("started")).isPositive();
  }

  @Test
  void jsonHasTheDocumentedShape() {
    JsonObject r = runJson("--mode", "tcp-churn", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "2",
        "--duration", "10s", "--max-requests", "20");
    assertThat(r.fieldNames()).contains("mode", "target", "concurrency", "payloadBytes", "durationMs", "elapsedMs",
        "complete", "requests", "successes", "errors", "timeouts", "throughput", "throughputUnit", "latencyUs",
        "client", "clientCpuSaturated");
    assertThat(r.getString("mode")).isEqualTo("tcp-churn");
    assertThat(r.getString("throughputUnit")).isEqualTo("conn/s");
    assertThat(r.getJsonObject("latencyUs").fieldNames()).contains("p50", "p90", "p99", "p999", "max");
    assertThat(r.getJsonObject("client").fieldNames()).contains("transport", "eventLoops", "cpuCoresUsed");
    assertThat(r.getValue("clientCpuSaturated")).isInstanceOf(Boolean.class);
    assertThat(r.containsKey("distribution")).isFalse();
  }

  @Test
  void textReportAndProgressGoToTheirStreams() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = LoadCommand.run(new String[] {"--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "2", "--duration", "1500ms"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("throughput", "dgram/s", "p99.9");
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("ok/s");
  }

  @Test
  void adminDistributionIsTheDeltaOfEachInstance() {
    Vertx vertx = Vertx.vertx();
    List<String> queries = new ArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    try {
      HttpServer admin = vertx.createHttpServer().requestHandler(req -> {
        queries.add(req.path() + "?" + req.query());
        boolean after = calls.getAndIncrement() > 0;
        req.response().putHeader("content-type", "application/json")
            .end(stats(after ? new long[] {110, 70} : new long[] {10, 20}).encode());
      }).listen(0, "127.0.0.1").await();
      JsonObject r = runJson("--mode", "tcp-churn", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "2",
          "--duration", "10s", "--max-requests", "10", "--admin", "http://127.0.0.1:" + admin.actualPort());
      assertThat(queries).containsExactly("/stats?fresh=true", "/stats?fresh=true");
      JsonObject d = r.getJsonObject("distribution");
      assertThat(d).as("load result %s", r).isNotNull();
      assertThat(d.getString("metric")).isEqualTo("tcp.accepted");
      assertThat(d.getLong("total")).isEqualTo(150);
      assertThat(d.getDouble("jain")).isEqualTo(0.9);
      assertThat(d.getJsonArray("instances").stream().map(o -> ((JsonObject) o).getLong("delta")))
          .containsExactly(100L, 50L);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void unreachableAdminIsReportedNotFatal() {
    JsonObject r = runJson("--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "2",
        "--duration", "10s", "--max-requests", "10", "--admin", "http://127.0.0.1:1");
    assertAddsUp(r, 10);
    assertThat(r.getString("distributionProblem")).contains("before the run");
  }

  private static JsonObject stats(long[] accepted) {
    JsonArray instances = new JsonArray();
    for (int i = 0; i < accepted.length; i++) {
      instances.add(new JsonObject().put("id", i).put("eventLoop", "loop-" + i)
          .put("tcp", new JsonObject().put("accepted", accepted[i]))
          .put("udp", new JsonObject().put("datagramsIn", 0)));
    }
    return new JsonObject().put("transport", "epoll").put("balancing", "reuseport").put("instances", instances);
  }

  private static int closedPort() throws Exception {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  private static void assertAddsUp(JsonObject r, long attempted) {
    assertThat(r.getBoolean("complete")).isTrue();
    assertThat(r.getLong("started")).isEqualTo(attempted);
    assertThat(r.getLong("requests")).isEqualTo(attempted);
    assertThat(r.getLong("successes") + r.getLong("errors") + r.getLong("timeouts")).isEqualTo(attempted);
  }

  private static JsonObject runJson(String... args) {
    return LoadCli.run(args);
  }

  private static JsonObject runFailing(String... args) {
    return LoadCli.run(LoadCommand.EXIT_FAILED, args);
  }
}
