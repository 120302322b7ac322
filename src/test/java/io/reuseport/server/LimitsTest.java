package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code maxConnectionsPerInstance} and {@code idleTimeoutSeconds}, in both balancing modes.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LimitsTest {

  private RunningServer server;
  private final List<NetSocket> admitted = new ArrayList<>();

  @AfterEach
  void stop(VertxTestContext test) {
    Future<Void> closed = Future.succeededFuture();
    for (NetSocket s : admitted) {
      closed = closed.transform(x -> s.close());
    }
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void connectionsOverTheLimitAreClosedAtOnceAndCounted(String balancing, Vertx vertx, VertxTestContext test) {
    NetClient client = vertx.createNetClient();
    AsyncServers.start(new JsonObject().put("balancing", balancing).put("instances", 1)
            .put("maxConnectionsPerInstance", 3))
        .compose(started -> {
          server = started;
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < 3; i++) {
            int value = i;
            chain = chain.compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
                .compose(socket -> {
                  admitted.add(socket);
                  return expectEcho(test, socket, value);
                });
          }
          for (int i = 0; i < 5; i++) {
            chain = chain.compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
                .compose(VertxClients::closedByServer)
                .map(sent -> {
                  test.verify(() -> assertThat(sent.length()).as("bytes sent over the limit").isZero());
                  return null;
                });
          }
          return chain;
        })
        .compose(v -> Future.all(AsyncServers.total(server, "tcp", "rejected"),
            AsyncServers.total(server, "tcp", "active")))
        .compose(totals -> {
          test.verify(() -> {
            assertThat(totals.<Long>resultAt(0)).as("rejected").isEqualTo(5);
            assertThat(totals.<Long>resultAt(1)).as("active").isEqualTo(3);
          });
          // the admitted ones still work, and a slot freed is a slot usable
          return expectEcho(test, admitted.get(2), 42);
        })
        .compose(v -> admitted.remove(0).close())
        .compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "active", 2))
        .compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
        .compose(again -> {
          admitted.add(again);
          return expectEcho(test, again, 7);
        })
        .onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void idleConnectionsAreClosed(String balancing, Vertx vertx, VertxTestContext test) {
    // kept for the whole test: Vert.x 5 closes a client nothing refers to when the GC runs, connections and all
    NetClient client = vertx.createNetClient();
    AsyncServers.start(new JsonObject().put("balancing", balancing).put("idleTimeoutSeconds", 2))
        .compose(started -> {
          server = started;
          return client.connect(server.port(), VertxClients.LOOPBACK);
        })
        // no traffic after the echo: the server closes the connection after about two seconds (one gave a loaded
        // machine too little time for the echo itself)
        .compose(socket -> expectEcho(test, socket, 1).compose(v -> VertxClients.closedByServer(socket)))
        .compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "active", 0))
        .compose(v -> AsyncServers.total(server, "tcp", "closed"))
        .eventually(client::close)
        .onComplete(test.succeeding(closed -> test.verify(() -> {
          assertThat(closed).isEqualTo(1);
          test.completeNow();
        })));
  }

  private static Future<Void> expectEcho(VertxTestContext test, NetSocket socket, int value) {
    return VertxClients.exchange(socket, Buffer.buffer(new byte[] {(byte) value}), 1).map(reply -> {
      test.verify(() -> assertThat(reply.getByte(0)).isEqualTo((byte) value));
      return null;
    });
  }
}
