package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A service whose {@code onConnect} throws an {@link Error} (a missing class, a stack overflow) gets the same
 * treatment as one that throws an exception, in both balancing modes: the connection is closed by the server and
 * counted closed with one error, so the instance's active count goes back to zero and its limit is not eaten up.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ConnectErrorTest {

  private RunningServer server;
  /** Held: Vert.x closes a client (and its connections) once nothing refers to it. */
  private NetClient client;

  @AfterEach
  void stop(VertxTestContext test) {
    (server == null ? Future.succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void anErrorInOnConnectClosesTheConnectionAndUndoesItsCount(String balancing, Vertx vertx, VertxTestContext test) {
    client = vertx.createNetClient();
    // connect-error: NoClassDefFoundError from the first onConnect, StackOverflowError from the second;
    // a limit of 1 open connection: a leaked count would reject the second connection
    AsyncServers.start(new JsonObject().put("balancing", balancing).put("instances", 1)
            .put("maxConnectionsPerInstance", 1).put("service", "connect-error"))
        .compose(started -> {
          server = started;
          return closedByServer();
        })
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0))
        .compose(v -> closedByServer())
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0))
        .compose(v -> AsyncServers.snapshots(server))
        .onComplete(test.succeeding(snapshots -> test.verify(() -> {
          InstanceSnapshot.TcpCounts tcp = snapshots.get(0).tcp();
          assertThat(List.of(tcp.accepted(), tcp.rejected(), tcp.closed(), tcp.errors()))
              .as("accepted, rejected, closed, errors").containsExactly(2L, 0L, 2L, 2L);
          test.completeNow();
        })));
  }

  /** A connection that the server closed without sending anything. */
  private Future<Void> closedByServer() {
    return client.connect(server.port(), VertxClients.LOOPBACK)
        .compose(VertxClients::closedByServer)
        .map(sent -> {
          assertThat(sent.length()).as("bytes sent before closing").isZero();
          return null;
        });
  }
}
