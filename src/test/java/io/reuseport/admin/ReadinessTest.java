package io.reuseport.admin;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.GatedService;
import io.reuseport.testsupport.VertxClients;
import io.reuseport.testsupport.VertxClients.Answer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ConnectException;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readiness: 503 while starting, 200 once every instance is bound, 503 again while draining; liveness stays 200.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ReadinessTest {

  private static final long RETRY_MS = 20;

  @Test
  void readyOnlyBetweenStartAndDrain(Vertx vertx, VertxTestContext test) throws Exception {
    // a known admin port: it must be asked before the start completes and tells its port
    int adminPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      adminPort = probe.getLocalPort();
    }
    HttpClient http = vertx.createHttpClient();
    GatedService.close();
    Future<RunningServer> starting = ReusePortServer.start(ConfigLoader.fromJson(AsyncServers.config(new JsonObject()
        .put("adminPort", adminPort).put("service", "gated").put("drainTimeoutSeconds", 20))));

    // kept through the drain: Vert.x 5 closes a client nothing refers to when the GC runs, connections and all
    NetClient client = vertx.createNetClient();
    awaitAdmin(vertx, http, adminPort)
        .compose(whileStarting -> {
          test.verify(() -> {
            assertThat(whileStarting.status()).isEqualTo(503);
            assertThat(new JsonObject(whileStarting.body()).getString("status")).isEqualTo("starting");
            assertThat(starting.isComplete()).isFalse();
          });
          GatedService.open();
          return starting;
        })
        .compose(server -> expect(test, http, adminPort, AdminRoutes.READY, 200)
            .compose(v -> expect(test, http, adminPort, AdminRoutes.LIVE, 200))
            // an open connection keeps the drain going while we look
            .compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
            .compose(open -> whileDraining(test, http, adminPort, server, open)))
        .eventually(client::close)
        .onComplete(test.succeedingThenComplete());
  }

  private static Future<Void> whileDraining(VertxTestContext test, HttpClient http, int adminPort,
                                            RunningServer server, NetSocket open) {
    return echo(test, open, 1).compose(v -> {
      Future<Void> stopping = server.stop();
      return VertxClients.get(http, adminPort, AdminRoutes.READY)
          .compose(draining -> {
            test.verify(() -> {
              assertThat(draining.status()).isEqualTo(503);
              assertThat(new JsonObject(draining.body()).getString("status")).isEqualTo("draining");
            });
            return expect(test, http, adminPort, AdminRoutes.LIVE, 200);
          })
          // the open connection is still served during the drain
          .compose(x -> echo(test, open, 2))
          .compose(x -> open.close())
          .compose(x -> stopping);
    });
  }

  private static Future<Void> echo(VertxTestContext test, NetSocket socket, int value) {
    return VertxClients.exchange(socket, Buffer.buffer(new byte[] {(byte) value}), 1).map(reply -> {
      test.verify(() -> assertThat(reply.getByte(0)).isEqualTo((byte) value));
      return null;
    });
  }

  private static Future<Void> expect(VertxTestContext test, HttpClient http, int port, String path, int status) {
    return VertxClients.get(http, port, path).map(answer -> {
      test.verify(() -> assertThat(answer.status()).as(path).isEqualTo(status));
      return null;
    });
  }

  /** The admin server comes up before the instances: ask, on a timer, until it answers. */
  private static Future<Answer> awaitAdmin(Vertx vertx, HttpClient http, int port) {
    Promise<Answer> answered = Promise.promise();
    ask(vertx, http, port, answered);
    return answered.future();
  }

  private static void ask(Vertx vertx, HttpClient http, int port, Promise<Answer> answered) {
    VertxClients.get(http, port, AdminRoutes.READY).onComplete(asked -> {
      if (asked.succeeded()) {
        answered.complete(asked.result());
      } else if (asked.cause() instanceof ConnectException) {
        vertx.setTimer(RETRY_MS, t -> ask(vertx, http, port, answered));
      } else {
        answered.fail(asked.cause());
      }
    });
  }
}
