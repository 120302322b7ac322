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
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built-in services over real loopback sockets, in both balancing modes. (The empty datagram, which Vert.x's
 * client cannot send, is echoed in {@code io.reuseport.testkit.ServerExtensionTest}.)
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ServicesTest {

  private static final int FOUR_MIB = 4 << 20;
  private RunningServer server;
  /** Kept for the whole test: Vert.x 5 closes a client nothing refers to when the GC runs, connections and all. */
  private NetClient client;

  @BeforeEach
  void client(Vertx vertx) {
    client = vertx.createNetClient();
  }

  @AfterEach
  void stop(VertxTestContext test) {
    client.close()
        .compose(v -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void tcpEchoReturnsFourMebibytesIntactThroughBackpressure(String balancing, Vertx vertx, VertxTestContext test)
      throws Exception {
    byte[] payload = new byte[FOUR_MIB];
    new Random(42).nextBytes(payload);
    byte[] expected = MessageDigest.getInstance("SHA-256").digest(payload);
    AsyncServers.start(new JsonObject().put("balancing", balancing))
        .compose(started -> {
          server = started;
          return client.connect(server.port(), VertxClients.LOOPBACK);
        })
        .onComplete(test.succeeding(socket -> {
          Buffer received = Buffer.buffer(FOUR_MIB);
          // not reading at first: the server's write queue fills and it must stop reading, not buffer everything
          socket.pause();
          socket.handler(data -> {
            received.appendBuffer(data);
            if (received.length() >= FOUR_MIB) {
              test.verify(() -> {
                assertThat(received.length()).isEqualTo(FOUR_MIB);
                assertThat(MessageDigest.getInstance("SHA-256").digest(received.getBytes())).isEqualTo(expected);
              });
              socket.close().onComplete(test.succeedingThenComplete());
            }
          });
          writeInChunks(socket, payload, 0);
          vertx.setTimer(300, t -> socket.resume());
        }));
  }

  /** Writes 64 KiB chunks while the client's own queue has room. */
  private static void writeInChunks(NetSocket socket, byte[] payload, int from) {
    int offset = from;
    while (offset < payload.length && !socket.writeQueueFull()) {
      int n = Math.min(65_536, payload.length - offset);
      socket.write(Buffer.buffer().appendBytes(payload, offset, n));
      offset += n;
    }
    if (offset < payload.length) {
      int next = offset;
      socket.drainHandler(v -> writeInChunks(socket, payload, next));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void udpEchoReturnsEachDatagramToItsSender(String balancing, Vertx vertx, VertxTestContext test) {
    int[] sizes = {1, 1_400, 65_507};
    AsyncServers.start(new JsonObject().put("balancing", balancing))
        .compose(started -> {
          server = started;
          return Future.all(VertxClients.Udp.open(vertx), VertxClients.Udp.open(vertx));
        })
        .compose(clients -> {
          Future<Void> chain = Future.succeededFuture();
          for (int size : sizes) {
            for (int c = 0; c < 2; c++) {
              VertxClients.Udp sender = clients.resultAt(c);
              byte[] out = new byte[size];
              new Random(size * 2L + c).nextBytes(out);
              chain = chain.compose(v -> sender.request(server.port(), Buffer.buffer(out)))
                  .map(reply -> {
                    test.verify(() -> assertThat(reply.getBytes()).isEqualTo(out));
                    return null;
                  });
            }
          }
          return chain;
        })
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void discardAnswersNothingAndKeepsTheConnection(Vertx vertx, VertxTestContext test) {
    AtomicBoolean answered = new AtomicBoolean();
    AtomicBoolean closed = new AtomicBoolean();
    AtomicReference<NetSocket> connection = new AtomicReference<>();
    AsyncServers.start(new JsonObject().put("service", "discard").put("instances", 1))
        .compose(started -> {
          server = started;
          return client.connect(server.port(), VertxClients.LOOPBACK);
        })
        .compose(socket -> {
          connection.set(socket);
          socket.handler(data -> answered.set(true));
          socket.closeHandler(v -> closed.set(true));
          return socket.write(Buffer.buffer(new byte[100_000]))
              .compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "bytesIn", 100_000))
              .compose(v -> socket.write(Buffer.buffer(new byte[10])))
              .compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "bytesIn", 100_010));
        })
        .compose(v -> VertxClients.Udp.open(vertx))
        .compose(udp -> {
          udp.request(server.port(), Buffer.buffer(new byte[8])).onSuccess(reply -> answered.set(true));
          return AsyncServers.awaitTotal(vertx, server, "udp", "datagramsIn", 1);
        })
        .compose(v -> AsyncServers.snapshots(server))
        .onComplete(test.succeeding(snapshots -> test.verify(() -> {
          // the server read every byte and the datagram, and counted nothing sent
          InstanceSnapshot counters = snapshots.get(0);
          assertThat(counters.tcp().bytesOut()).isZero();
          assertThat(counters.tcp().active()).as("still open").isEqualTo(1);
          assertThat(counters.udp().datagramsOut()).isZero();
          assertThat(answered).as("still silent").isFalse();
          assertThat(closed).as("still open").isFalse();
          // closed by the client, so that the server's drain has nothing to wait for
          connection.get().close().onComplete(test.succeedingThenComplete());
        })));
  }
}
