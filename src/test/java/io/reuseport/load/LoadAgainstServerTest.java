package io.reuseport.load;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The load command against the real server on loopback: counts add up, limits stop the run, loss is counted.
 * Behaviour only; speed is measured by bench/compare.sh. The command runs off the event loops
 * ({@link LoadCli#runAsync}) on a Vertx of its own, as it does from the command line.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoadAgainstServerTest {

  private static RunningServer echo;
  private static RunningServer discard;

  @BeforeAll
  static void startServers(VertxTestContext test) {
    Future.all(AsyncServers.start(new JsonObject()), AsyncServers.start(new JsonObject().put("service", "discard")))
        .onComplete(test.succeeding(both -> {
          echo = both.resultAt(0);
          discard = both.resultAt(1);
          test.completeNow();
        }));
  }

  @AfterAll
  static void stopServers(VertxTestContext test) {
    Future.all(stop(echo), stop(discard)).onComplete(test.succeedingThenComplete());
  }

  private static Future<Void> stop(RunningServer server) {
    return server == null ? Future.succeededFuture() : server.stop();
  }

  @Test
  void tcpChurnAttemptsExactlyMaxRequests(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-churn", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "8", "--duration", "30s", "--max-requests", "200").onComplete(checked(test, r -> {
          assertAddsUp(r, 200);
          assertThat(r.getLong("successes")).isPositive();
        }));
  }

  @Test
  void tcpEchoAttemptsExactlyMaxRequests(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "4", "--duration", "30s", "--max-requests", "500", "--payload", "100")
        .onComplete(checked(test, r -> {
          assertAddsUp(r, 500);
          assertThat(r.getLong("successes")).isPositive();
        }));
  }

  @Test
  void udpEchoAttemptsExactlyMaxRequests(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "16", "--duration", "30s", "--max-requests", "300").onComplete(checked(test, r -> {
          assertAddsUp(r, 300);
          assertThat(r.getLong("successes")).isPositive();
        }));
  }

  @Test
  void warmupRequestsAreNotCounted(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "4", "--duration", "30s", "--warmup", "500ms", "--max-requests", "50")
        .onComplete(checked(test, r -> assertAddsUp(r, 50)));
  }

  @Test
  void udpWithoutEchoCountsEveryDatagramAsTimeout(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_FAILED, "--mode", "udp-echo", "--target",
        "127.0.0.1:" + discard.port(), "--concurrency", "3", "--duration", "30s", "--max-requests", "6",
        "--timeout", "200ms").onComplete(checked(test, r -> {
          assertAddsUp(r, 6);
          assertThat(r.getLong("timeouts")).isEqualTo(6);
          assertThat(r.getLong("successes")).isZero();
          assertThat(r.getJsonObject("latencyUs").getLong("count")).isZero();
        }));
  }

  @Test
  void tcpWithoutEchoCountsTimeoutsAndKeepsGoing(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_FAILED, "--mode", "tcp-echo", "--target",
        "127.0.0.1:" + discard.port(), "--concurrency", "2", "--duration", "30s", "--max-requests", "4",
        "--timeout", "200ms").onComplete(checked(test, r -> {
          assertAddsUp(r, 4);
          assertThat(r.getLong("timeouts")).isEqualTo(4);
        }));
  }

  @Test
  void refusedConnectionsCountAsErrorsAndFailTheRun(Vertx vertx, VertxTestContext test) {
    closedPort(vertx)
        .compose(port -> LoadCli.runAsync(vertx, LoadCommand.EXIT_FAILED, "--mode", "tcp-churn", "--target",
            "127.0.0.1:" + port, "--concurrency", "2", "--duration", "30s", "--max-requests", "10",
            "--connect-retries", "100"))
        .onComplete(checked(test, r -> {
          assertAddsUp(r, 10);
          assertThat(r.getLong("errors")).isEqualTo(10);
          assertThat(r.getJsonObject("errorKinds")).isNotEmpty();
          assertThat(r.getBoolean("passed")).isFalse();
          assertThat(r.getString("failure")).contains("no request succeeded");
        }));
  }

  @Test
  void stopsByItselfAtTheDuration(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "4", "--duration", "1s").onComplete(checked(test, r -> {
          assertThat(r.getBoolean("complete")).isTrue();
          assertThat(r.getLong("requests")).isEqualTo(r.getLong("started")).isPositive();
        }));
  }

  @Test
  void jsonHasTheDocumentedShape(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-churn", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "2", "--duration", "10s", "--max-requests", "20").onComplete(checked(test, r -> {
          assertThat(r.fieldNames()).contains("mode", "target", "concurrency", "payloadBytes", "durationMs",
              "elapsedMs", "complete", "requests", "successes", "errors", "timeouts", "throughput",
              "throughputUnit", "latencyUs", "client", "clientCpuSaturated");
          assertThat(r.getString("mode")).isEqualTo("tcp-churn");
          assertThat(r.getString("throughputUnit")).isEqualTo("conn/s");
          assertThat(r.getJsonObject("latencyUs").fieldNames()).contains("p50", "p90", "p99", "p999", "max");
          assertThat(r.getJsonObject("client").fieldNames()).contains("transport", "eventLoops", "cpuCoresUsed");
          assertThat(r.getValue("clientCpuSaturated")).isInstanceOf(Boolean.class);
          assertThat(r.containsKey("distribution")).isFalse();
        }));
  }

  @Test
  void textReportAndProgressGoToTheirStreams(Vertx vertx, VertxTestContext test) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    // a plain thread, as LoadCli.runAsync uses: the command blocks on a Vertx of its own
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> LoadCommand.run(new String[] {"--mode",
        "udp-echo", "--target", "127.0.0.1:" + echo.port(), "--concurrency", "2", "--duration", "1500ms"},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
    Future.fromCompletionStage(run, vertx.getOrCreateContext()).onComplete(test.succeeding(code -> test.verify(() -> {
      assertThat(code).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("throughput", "dgram/s", "p99.9");
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("ok/s");
      test.completeNow();
    })));
  }

  @Test
  void adminDistributionIsTheDeltaOfEachInstance(Vertx vertx, VertxTestContext test) {
    // asked from the admin server's loop, read by the test once the run is over
    List<String> queries = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    vertx.createHttpServer().requestHandler(req -> {
      queries.add(req.path() + "?" + req.query());
      boolean after = calls.getAndIncrement() > 0;
      req.response().putHeader("content-type", "application/json")
          .end(stats(after ? new long[] {110, 70} : new long[] {10, 20}).encode());
    }).listen(0, "127.0.0.1")
        .compose(admin -> LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-churn", "--target",
            "127.0.0.1:" + echo.port(), "--concurrency", "2", "--duration", "10s", "--max-requests", "10", "--admin",
            "http://127.0.0.1:" + admin.actualPort()))
        .onComplete(checked(test, r -> {
          assertThat(queries).containsExactly("/stats?fresh=true", "/stats?fresh=true");
          JsonObject d = r.getJsonObject("distribution");
          assertThat(d).as("load result %s", r).isNotNull();
          assertThat(d.getString("metric")).isEqualTo("tcp.accepted");
          assertThat(d.getLong("total")).isEqualTo(150);
          assertThat(d.getDouble("jain")).isEqualTo(0.9);
          assertThat(d.getJsonArray("instances").stream().map(o -> ((JsonObject) o).getLong("delta")))
              .containsExactly(100L, 50L);
        }));
  }

  @Test
  void unreachableAdminIsReportedNotFatal(Vertx vertx, VertxTestContext test) {
    LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "udp-echo", "--target", "127.0.0.1:" + echo.port(),
        "--concurrency", "2", "--duration", "10s", "--max-requests", "10", "--admin", "http://127.0.0.1:1")
        .onComplete(checked(test, r -> {
          assertAddsUp(r, 10);
          assertThat(r.getString("distributionProblem")).contains("before the run");
        }));
  }

  /** Runs {@code checks} on the command's JSON result, then completes the test. */
  private static Handler<AsyncResult<JsonObject>> checked(VertxTestContext test, Consumer<JsonObject> checks) {
    return test.succeeding(r -> test.verify(() -> {
      checks.accept(r);
      test.completeNow();
    }));
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

  /** A port that was just free: bound by a listener that is closed again at once. */
  private static Future<Integer> closedPort(Vertx vertx) {
    NetServer probe = vertx.createNetServer().connectHandler(socket -> socket.close());
    return probe.listen(0, "127.0.0.1").compose(bound -> probe.close().map(bound.actualPort()));
  }

  private static void assertAddsUp(JsonObject r, long attempted) {
    assertThat(r.getBoolean("complete")).isTrue();
    assertThat(r.getLong("started")).isEqualTo(attempted);
    assertThat(r.getLong("requests")).isEqualTo(attempted);
    assertThat(r.getLong("successes") + r.getLong("errors") + r.getLong("timeouts")).isEqualTo(attempted);
  }
}
