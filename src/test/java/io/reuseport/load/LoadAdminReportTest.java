package io.reuseport.load;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code load --admin} against the real server: the per-instance report covers the whole run, from before the first
 * connection or datagram, and its total is exactly what the client opened or sent and what the server's own
 * {@code /stats} counted. Each test starts a fresh server, so nothing else counts on it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoadAdminReportTest {

  private RunningServer server;

  @AfterEach
  void stopServer(VertxTestContext test) {
    (server == null ? Future.<Void>succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @Test
  void tcpEchoCountsItsPersistentConnections(Vertx vertx, VertxTestContext test) {
    runThenCompare(vertx, test, "tcp", "accepted", "clientConnections", new String[] {"--mode", "tcp-echo",
        "--concurrency", "32", "--duration", "30s", "--max-requests", "2000"}, report -> {
          assertThat(report.getJsonObject("distribution").getLong("total")).isEqualTo(32);
          assertThat(report.getJsonObject("distribution").getDouble("jain")).isNotNull().isPositive();
        });
  }

  @Test
  void tcpEchoWithWarmUpCountsTheConnectionsOpenedDuringIt(Vertx vertx, VertxTestContext test) {
    runThenCompare(vertx, test, "tcp", "accepted", "clientConnections", new String[] {"--mode", "tcp-echo",
        "--concurrency", "16", "--duration", "30s", "--warmup", "300ms", "--max-requests", "500"}, report -> {
          assertThat(report.getJsonObject("distribution").getLong("total")).isEqualTo(16);
          assertThat(report.getJsonObject("distribution").getBoolean("warmupIncluded")).isTrue();
        });
  }

  @Test
  void tcpChurnCountsEveryConnection(Vertx vertx, VertxTestContext test) {
    runThenCompare(vertx, test, "tcp", "accepted", "clientConnections", new String[] {"--mode", "tcp-churn",
        "--concurrency", "8", "--duration", "30s", "--max-requests", "300"}, report ->
            assertThat(report.getJsonObject("distribution").getLong("total")).isEqualTo(300));
  }

  @Test
  void udpEchoCountsEveryDatagram(Vertx vertx, VertxTestContext test) {
    runThenCompare(vertx, test, "udp", "datagramsIn", "clientDatagramsSent", new String[] {"--mode", "udp-echo",
        "--concurrency", "16", "--duration", "30s", "--max-requests", "1000"}, report ->
            assertThat(report.getJsonObject("distribution").getLong("total")).isEqualTo(1000));
  }

  @Test
  void statsNamesTheProcessThatCounted(Vertx vertx, VertxTestContext test) {
    AsyncServers.start(new JsonObject())
        .compose(started -> {
          server = started;
          return freshStats(vertx, server.adminPort());
        })
        .onComplete(test.succeeding(stats -> test.verify(() -> {
          JsonObject process = stats.getJsonObject("process");
          assertThat(process.getLong("pid")).isEqualTo(ProcessHandle.current().pid());
          assertThat(Instant.parse(process.getString("startedAt"))).isBefore(Instant.now());
          test.completeNow();
        })));
  }

  /**
   * A takeover between the two reads puts another process behind the admin port, whose counters start from zero:
   * the report must not compare them with the client's. The admin port here is a stand-in on loopback that passes
   * the real server's {@code /stats} on, naming another process from the second read on; the control passes it on
   * unchanged and must get the distribution.
   */
  @ParameterizedTest(name = "process changes: {0}")
  @ValueSource(booleans = {true, false})
  void aReportAcrossAnotherProcessSaysTheCountsCannotBeCompared(boolean takenOver, Vertx vertx,
                                                                 VertxTestContext test) {
    AtomicInteger reads = new AtomicInteger();
    HttpClient upstream = vertx.createHttpClient();
    HttpServer standIn = vertx.createHttpServer().requestHandler(request -> {
      int read = reads.incrementAndGet();
      upstream.request(HttpMethod.GET, server.adminPort(), "127.0.0.1", request.uri())
          .compose(forward -> forward.send().compose(response -> response.body()))
          .onSuccess(body -> {
            JsonObject stats = new JsonObject(body);
            if (takenOver && read > 1) {
              stats.put("process", new JsonObject().put("pid", 1).put("startedAt", Instant.now().toString()));
            }
            request.response().putHeader("content-type", "application/json").end(stats.encode());
          })
          .onFailure(err -> request.response().setStatusCode(502).end(String.valueOf(err)));
    });
    AsyncServers.start(new JsonObject())
        .compose(started -> {
          server = started;
          return standIn.listen(0, "127.0.0.1");
        })
        .compose(listening -> LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-churn", "--concurrency",
            "4", "--duration", "30s", "--max-requests", "100", "--target", "127.0.0.1:" + server.port(),
            "--admin", "http://127.0.0.1:" + listening.actualPort()))
        .eventually(() -> standIn.close().compose(v -> upstream.close()))
        .onComplete(test.succeeding(report -> test.verify(() -> {
          assertThat(reads.get()).isEqualTo(2);
          if (takenOver) {
            assertThat(report.getJsonObject("distribution")).as("report %s", report).isNull();
            assertThat(report.getString("distributionProblem"))
                .contains("another server process answered after the run (pid 1 started")
                .contains("cannot be compared with the client's");
          } else {
            assertThat(report.getJsonObject("distribution").getLong("total")).as("report %s", report)
                .isEqualTo(100);
            assertThat(report.getString("distributionProblem")).isNull();
          }
          test.completeNow();
        })));
  }

  /** What a test checks on top of the totals matching. */
  private interface Check {
    void verify(JsonObject report) throws Exception;
  }

  private void runThenCompare(Vertx vertx, VertxTestContext test, String section, String counter, String clientCount,
                              String[] load, Check extra) {
    AsyncServers.start(new JsonObject())
        .compose(started -> {
          server = started;
          return LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, concat(load, "--target", "127.0.0.1:" + server.port(),
              "--admin", "http://127.0.0.1:" + server.adminPort()));
        })
        .compose(report -> freshStats(vertx, server.adminPort()).map(stats -> List.of(report, stats)))
        .onComplete(test.succeeding(both -> test.verify(() -> {
          JsonObject report = both.get(0);
          JsonObject stats = both.get(1);
          JsonObject distribution = report.getJsonObject("distribution");
          assertThat(distribution).as("report %s", report).isNotNull();
          assertThat(distribution.getString("metric")).isEqualTo(section + "." + counter);
          assertThat(distribution.getJsonArray("instances")).hasSize(2);
          long serverTotal = stats.getJsonObject("totals").getJsonObject(section).getLong(counter);
          assertThat(distribution.getLong("total")).as("the report's total is all the server counted")
              .isEqualTo(serverTotal)
              .as("and all the client opened or sent").isEqualTo(distribution.getLong(clientCount));
          extra.verify(report);
          test.completeNow();
        })));
  }

  private static Future<JsonObject> freshStats(Vertx vertx, int adminPort) {
    HttpClient client = vertx.createHttpClient();
    return client.request(HttpMethod.GET, adminPort, "127.0.0.1", "/stats?fresh=true")
        .compose(request -> request.send().compose(response -> response.body()))
        .map(body -> new JsonObject(body))
        .eventually(() -> client.close());
  }

  private static String[] concat(String[] first, String... more) {
    String[] all = Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }
}
