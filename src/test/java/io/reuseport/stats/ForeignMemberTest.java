package io.reuseport.stats;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A process of the same user joins the port's reuseport group silently and takes a share of the traffic: the
 * collector sees it in the kernel's tables, reports it as foreign, and stops reporting it once it is gone.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ForeignMemberTest {

  /** Binds a TCP listener and a UDP socket with SO_REUSEPORT on the port, says so, and waits for stdin to close. */
  private static final String JOINER = String.join("\n",
      "import socket, sys",
      "port = int(sys.argv[1])",
      "t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
      "t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)",
      "t.bind(('127.0.0.1', port)); t.listen(16)",
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)",
      "u.bind(('127.0.0.1', port))",
      "print('joined', flush=True)",
      "sys.stdin.read()");

  private RunningServer server;
  private Process joiner;

  @AfterEach
  void stop(VertxTestContext test) {
    if (joiner != null) {
      joiner.destroyForcibly();
    }
    (server == null ? Future.succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @Test
  void aForeignProcessInTheGroupIsReportedUntilItLeaves(Vertx vertx, VertxTestContext test) {
    assumeTrue(onPath("python3"), "python3 is needed to run a foreign process");
    HttpClient http = vertx.createHttpClient();
    AsyncServers.start(new JsonObject().put("instances", 2).put("statsIntervalMs", 200))
        .compose(started -> {
          server = started;
          // the joiner's pipe is read on a worker thread: a blocking read, off the event loop
          return vertx.executeBlocking(() -> {
            joiner = new ProcessBuilder("python3", "-c", JOINER, Integer.toString(server.port()))
                .redirectErrorStream(true).start();
            return new BufferedReader(new InputStreamReader(joiner.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
          });
        })
        .compose(line -> {
          test.verify(() -> assertThat(line).isEqualTo("joined"));
          return group(http);
        })
        .compose(group -> {
          test.verify(() -> {
            assertThat(group.getInteger("tcpListeners")).isEqualTo(3);
            assertThat(group.getInteger("udpSockets")).isEqualTo(3);
            assertThat(group.getInteger("foreignTcp")).isEqualTo(1);
            assertThat(group.getInteger("foreignUdp")).isEqualTo(1);
          });
          return VertxClients.get(http, server.adminPort(), "/metrics");
        })
        .compose(metrics -> {
          test.verify(() -> assertThat(metrics.body()).contains("reuseport_group_foreign{protocol=\"tcp\"} 1.0"));
          // closing its stdin ends the joiner
          return vertx.executeBlocking(() -> {
            joiner.getOutputStream().close();
            return null;
          });
        })
        .compose(v -> Future.fromCompletionStage(joiner.onExit()))
        .compose(exited -> group(http))
        .onComplete(test.succeeding(group -> test.verify(() -> {
          assertThat(group.getInteger("foreignTcp")).isZero();
          assertThat(group.getInteger("foreignUdp")).isZero();
          assertThat(group.getInteger("tcpListeners")).isEqualTo(2);
          test.completeNow();
        })));
  }

  private Future<JsonObject> group(HttpClient http) {
    return VertxClients.get(http, server.adminPort(), "/stats?fresh=true")
        .map(answer -> new JsonObject(answer.body()).getJsonObject("group"));
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (new java.io.File(dir, command).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
