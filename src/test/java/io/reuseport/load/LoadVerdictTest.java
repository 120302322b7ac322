package io.reuseport.load;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whether a load run passed, against the real server on loopback: a closed port costs a bounded number of connect
 * attempts and fails the run, and {@code --max-error-rate} fails a run with more errors than it allows.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoadVerdictTest {

  private final List<RunningServer> servers = new ArrayList<>();

  @AfterEach
  void stopServers(VertxTestContext test) {
    Future<Void> stopped = Future.succeededFuture();
    for (RunningServer s : servers) {
      stopped = stopped.transform(x -> s.stop());
    }
    stopped.onComplete(test.succeedingThenComplete());
  }

  @Test
  void aClosedPortCostsABoundedNumberOfAttemptsAndEndsTheRunEarly(Vertx vertx, VertxTestContext test) {
    // a port that was just free: bound by a listener that is closed again at once
    NetServer probe = vertx.createNetServer().connectHandler(socket -> socket.close());
    probe.listen(0, "127.0.0.1").compose(bound -> probe.close().map(bound.actualPort()))
        // without a request limit: only the back-off and the retry bound keep this from a tight loop for 30 s
        .compose(port -> LoadCli.runAsync(vertx, LoadCommand.EXIT_FAILED, "--mode", "tcp-echo", "--target",
            "127.0.0.1:" + port, "--concurrency", "4", "--duration", "30s", "--connect-retries", "3"))
        .onComplete(test.succeeding(r -> test.verify(() -> {
          assertThat(r.getLong("gaveUp")).isEqualTo(4);
          assertThat(r.getLong("errors")).as("4 connections x (1 attempt + 3 retries)").isEqualTo(16);
          assertThat(r.getLong("successes")).isZero();
          assertThat(r.getString("failure")).contains("no request succeeded");
          assertThat(r.getLong("elapsedMs")).as("ended when every connection gave up").isLessThan(30_000);
          test.completeNow();
        })));
  }

  @Test
  void anErrorRateAboveTheLimitFailsTheRun(Vertx vertx, VertxTestContext test) {
    // one connection admitted, the others closed at once by the server: some requests succeed, some fail
    String[] target = new String[1];
    start(new JsonObject().put("instances", 1).put("maxConnectionsPerInstance", 1))
        .compose(oneSlot -> {
          target[0] = "127.0.0.1:" + oneSlot.port();
          return LoadCli.runAsync(vertx, LoadCommand.EXIT_FAILED, "--mode", "tcp-echo", "--target", target[0],
              "--concurrency", "3", "--duration", "30s", "--max-requests", "300", "--max-error-rate", "0");
        })
        .compose(strict -> {
          test.verify(() -> {
            assertThat(strict.getLong("successes")).isPositive();
            assertThat(strict.getLong("errors")).isPositive();
            assertThat(strict.getBoolean("passed")).isFalse();
            assertThat(strict.getString("failure")).contains("--max-error-rate");
          });
          return LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "tcp-echo", "--target", target[0],
              "--concurrency", "3", "--duration", "30s", "--max-requests", "300", "--max-error-rate", "100%");
        })
        .onComplete(test.succeeding(lenient -> test.verify(() -> {
          assertThat(lenient.getBoolean("passed")).isTrue();
          assertThat(lenient.getDouble("errorRate")).isGreaterThan(0.0);
          test.completeNow();
        })));
  }

  @Test
  void noErrorsPassesTheStrictestLimit(Vertx vertx, VertxTestContext test) {
    // a generous timeout: a fresh server on a busy machine can take over a second to answer its first datagram
    start(new JsonObject())
        .compose(echo -> LoadCli.runAsync(vertx, LoadCommand.EXIT_OK, "--mode", "udp-echo", "--target",
            "127.0.0.1:" + echo.port(), "--concurrency", "4", "--duration", "30s", "--max-requests", "200",
            "--timeout", "20s", "--max-error-rate", "0"))
        .onComplete(test.succeeding(r -> test.verify(() -> {
          assertThat(r.getBoolean("passed")).isTrue();
          assertThat(r.getDouble("errorRate")).isZero();
          assertThat(r.getValue("failure")).isNull();
          test.completeNow();
        })));
  }

  private Future<RunningServer> start(JsonObject overrides) {
    return AsyncServers.start(overrides).andThen(started -> {
      if (started.succeeded()) {
        servers.add(started.result());
      }
    });
  }
}
