package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.ThrowingHttpService;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTP service that throws later, outside its request handler (in a timer, in a future's callback, after it
 * answered), counts one {@code tcp.errors} per exception on its instance, and the client still gets what the
 * service sent ({@code 200}); the control, requests that throw nothing, counts none. Over the real server on
 * loopback with a {@code WebClient}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class HttpLateServiceErrorsTest {

  private RunningServer server;
  private WebClient web;

  @AfterEach
  void stop(VertxTestContext test) {
    if (web != null) {
      web.close();
    }
    (server == null ? Future.succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @Test
  void anExceptionInATimerOrACallbackCountsOneErrorAndTheAnswerIsUnchanged(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    AsyncServers.start(new JsonObject().put("service", ThrowingHttpService.NAME).put("instances", 1))
        .compose(started -> {
          server = started;
          return Future.all(get("/ok"), get("/ok"));
        })
        .compose(controls -> AsyncServers.snapshots(server).map(before -> before.get(0).tcp().errors()))
        .compose(afterControls -> Future.all(get("/throw-in-timer"), get("/throw-in-callback"))
            .compose(answers -> AsyncServers.snapshots(server).map(after -> {
              test.verify(() -> {
                assertThat(afterControls).as("errors after two requests that throw nothing").isZero();
                assertThat(List.of(status(answers.resultAt(0)), status(answers.resultAt(1))))
                    .as("what the clients got: the service answered before it threw").containsExactly(200, 200);
                InstanceSnapshot.TcpCounts tcp = after.get(0).tcp();
                assertThat(tcp.errors()).as("tcp.errors after a throw in a timer and one in a callback")
                    .isEqualTo(2);
                assertThat(tcp.closed()).as("connections closed: none, the client keeps them").isZero();
              });
              return null;
            })))
        .onComplete(test.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> get(String path) {
    return web.get(server.port(), VertxClients.LOOPBACK, path).send();
  }

  private static int status(HttpResponse<Buffer> response) {
    return response.statusCode();
  }
}
