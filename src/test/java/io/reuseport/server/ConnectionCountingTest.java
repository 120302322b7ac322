package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Checkpoint;
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
 * Both balancing modes count the same clients the same way ({@link ConnectionAdmission}): a connection over the
 * limit is rejected; a service error counts one {@code tcp.errors}; a peer that closes with a reset
 * ({@code SO_LINGER} 0), idle or in the middle of a transfer, counts one {@code tcp.resets} and no error, however
 * many of the connection's reads and writes fail with it; a clean close counts neither; and every admitted
 * connection is counted closed once. The resetting clients are the control: on a server that counted resets as
 * errors, {@code errors} would be {@code 1 + RESETS + IDLE_RESETS}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ConnectionCountingTest {

  /** Connections that reset in the middle of a transfer. */
  private static final int RESETS = 3;
  /** Connections that reset without sending anything, as a load balancer's health check does. */
  private static final int IDLE_RESETS = 2;
  /** What each resetting client sends: more than the server has read and echoed when the client resets. */
  private static final int RESET_PAYLOAD = 1 << 20;
  /** What the server must have read from a resetting client before it resets: its echo is then under way. */
  private static final int READ_BEFORE_RESET = 64 * 1024;

  private RunningServer server;

  @AfterEach
  void stop(VertxTestContext test) {
    (server == null ? Future.succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void bothModesCountRejectionsServiceErrorsAndResetsAlike(String balancing, Vertx vertx, VertxTestContext test) {
    Checkpoint rejected = test.checkpoint();
    Checkpoint serviceError = test.checkpoint();
    Checkpoint reset = test.checkpoint(RESETS + IDLE_RESETS);
    Checkpoint counted = test.checkpoint();
    NetClient client = vertx.createNetClient();
    // closed with linger 0: a reset
    NetClient resetting = vertx.createNetClient(new NetClientOptions().setSoLinger(0));
    HttpClient http = vertx.createHttpClient();
    // stall: echo, except that "boom" makes the service throw
    AsyncServers.start(new JsonObject().put("balancing", balancing).put("instances", 1)
            .put("maxConnectionsPerInstance", 2).put("service", "stall"))
        .compose(started -> {
          server = started;
          return echoing(client, 1).compose(first -> echoing(client, 2).compose(second -> {
            Future<Void> overTheLimit = client.connect(server.port(), VertxClients.LOOPBACK)
                .compose(VertxClients::closedByServer)
                .map(sent -> {
                  test.verify(() -> assertThat(sent.length()).as("bytes sent over the limit").isZero());
                  rejected.flag();
                  return null;
                });
            return overTheLimit
                .compose(v -> {
                  Future<Buffer> closed = VertxClients.closedByServer(first);
                  return first.write(Buffer.buffer("boom")).compose(w -> closed);
                })
                .compose(v -> {
                  serviceError.flag();
                  return second.close();
                });
          }));
        })
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0))
        .compose(v -> resets(vertx, resetting, reset, RESETS))
        .compose(v -> idleResets(vertx, resetting, reset, IDLE_RESETS))
        .compose(v -> Future.all(AsyncServers.snapshots(server),
            VertxClients.get(http, server.adminPort(), "/stats?fresh=true")))
        .onComplete(test.succeeding(answers -> test.verify(() -> {
          InstanceSnapshot.TcpCounts tcp = answers.<List<InstanceSnapshot>>resultAt(0).get(0).tcp();
          long admitted = 2 + RESETS + IDLE_RESETS;
          assertThat(tcp).isEqualTo(new InstanceSnapshot.TcpCounts(admitted, 0, admitted, 1, tcp.bytesIn(),
              tcp.bytesOut(), 1, 0, RESETS + IDLE_RESETS));
          JsonObject totals = new JsonObject(answers.<VertxClients.Answer>resultAt(1).body())
              .getJsonObject("totals").getJsonObject("tcp");
          assertThat(totals.getLong("accepted")).isEqualTo(admitted);
          assertThat(totals.getLong("rejected")).isEqualTo(1);
          assertThat(totals.getLong("active")).isZero();
          assertThat(totals.getLong("closed")).isEqualTo(admitted);
          assertThat(totals.getLong("errors")).as("the service error only").isEqualTo(1);
          assertThat(totals.getLong("resets")).as("one per resetting peer").isEqualTo(RESETS + IDLE_RESETS);
          counted.flag();
        })));
  }

  /** A fresh connection whose echo of {@code value} came back: admitted and served. */
  private Future<NetSocket> echoing(NetClient client, int value) {
    return client.connect(server.port(), VertxClients.LOOPBACK)
        .compose(socket -> VertxClients.exchange(socket, Buffer.buffer(new byte[] {(byte) value}), 1)
            .map(echo -> socket));
  }

  /**
   * One after the other, {@code left} connections that the server admits and the client resets without a word, as
   * HAProxy's default health check does.
   */
  private Future<Void> idleResets(Vertx vertx, NetClient resetting, Checkpoint reset, int left) {
    if (left == 0) {
      return Future.succeededFuture();
    }
    return AsyncServers.total(server, s -> s.tcp().accepted())
        .compose(before -> resetting.connect(server.port(), VertxClients.LOOPBACK).compose(socket ->
            AsyncServers.awaitTotal(vertx, server, s -> s.tcp().accepted(), accepted -> accepted > before)
                .compose(v -> socket.close())))
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0))
        .compose(v -> {
          reset.flag();
          return idleResets(vertx, resetting, reset, left - 1);
        });
  }

  /**
   * One after the other, {@code left} connections that send {@value #RESET_PAYLOAD} bytes and reset once the server
   * has read {@value #READ_BEFORE_RESET} of them, in the middle of the echo.
   */
  private Future<Void> resets(Vertx vertx, NetClient resetting, Checkpoint reset, int left) {
    if (left == 0) {
      return Future.succeededFuture();
    }
    return AsyncServers.total(server, s -> s.tcp().bytesIn())
        .compose(before -> resetting.connect(server.port(), VertxClients.LOOPBACK).compose(socket -> {
          // read and dropped (a paused Vert.x socket would keep what it buffered past the reset)
          socket.handler(echo -> { });
          socket.write(Buffer.buffer(new byte[RESET_PAYLOAD]));
          return AsyncServers.awaitTotal(vertx, server, s -> s.tcp().bytesIn(),
                  read -> read - before >= READ_BEFORE_RESET)
              .compose(v -> socket.close());
        }))
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0))
        .compose(v -> {
          reset.flag();
          return resets(vertx, resetting, reset, left - 1);
        });
  }
}
