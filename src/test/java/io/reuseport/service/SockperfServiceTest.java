package io.reuseport.service;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sockperf service over real loopback sockets, speaking sockperf's message format by hand: which messages get
 * a reply (from a client, reply requested, not warm-up), the reply's cleared client flag, messages split and joined
 * by the TCP stream, and malformed input. Each test sends the messages that must stay unanswered before the last
 * one that must be answered, so "nothing else came back" is checked by order, not by waiting.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SockperfServiceTest {

  private static final int CLIENT = SockperfService.FROM_CLIENT;
  private static final int PONG = SockperfService.REPLY_REQUESTED;
  private static final int WARMUP = SockperfService.WARMUP;

  private RunningServer server;

  @AfterEach
  void stop(VertxTestContext test) {
    (server == null ? Future.<Void>succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void tcpAnswersExactlyTheMessagesThatAskForAReply(String balancing, Vertx vertx, VertxTestContext test) {
    Buffer sent = Buffer.buffer()
        .appendBuffer(message(1, CLIENT | PONG | WARMUP, 64))     // warm-up: no reply
        .appendBuffer(message(2, CLIENT, 64))                     // throughput mode: no reply
        .appendBuffer(message(3, CLIENT | PONG, 1_000))           // ping-pong / under-load: reply
        .appendBuffer(message(4, PONG, 64))                       // not from a client: no reply
        .appendBuffer(message(5, CLIENT | PONG, 14));             // header only: reply
    Buffer expected = Buffer.buffer().appendBuffer(message(3, PONG, 1_000)).appendBuffer(message(5, PONG, 14));
    NetClient client = vertx.createNetClient();
    start(new JsonObject().put("balancing", balancing))
        .compose(v -> client.connect(server.port(), "127.0.0.1"))
        .onComplete(test.succeeding(socket -> {
          Buffer received = Buffer.buffer();
          socket.handler(data -> {
            received.appendBuffer(data);
            if (received.length() >= expected.length()) {
              test.verify(() -> assertThat(received.getBytes()).isEqualTo(expected.getBytes()));
              // closed before the server stops, or its drain would wait for this connection
              socket.close().onComplete(test.succeedingThenComplete());
            }
          });
          // in pieces of 7 bytes: messages and headers split across reads, several messages in one read
          for (int at = 0; at < sent.length(); at += 7) {
            socket.write(sent.getBuffer(at, Math.min(sent.length(), at + 7)));
          }
        }));
  }

  @Test
  void tcpMessageWithAnImpossibleLengthClosesThatConnectionOnly(Vertx vertx, VertxTestContext test) {
    Checkpoint closed = test.checkpoint();
    Checkpoint answeredAfterwards = test.checkpoint();
    NetClient client = vertx.createNetClient();
    start(new JsonObject())
        .compose(v -> client.connect(server.port(), "127.0.0.1"))
        .onComplete(test.succeeding(bad -> {
          bad.closeHandler(v -> {
            closed.flag();
            client.connect(server.port(), "127.0.0.1").onComplete(test.succeeding(good -> {
              good.handler(reply -> test.verify(() -> {
                assertThat(reply.getLong(0)).isEqualTo(9);
                good.close().onComplete(test.succeeding(done -> answeredAfterwards.flag()));
              }));
              good.write(message(9, CLIENT | PONG, 32));
            }));
          });
          bad.write(Buffer.buffer().appendLong(1).appendUnsignedShort(CLIENT | PONG).appendUnsignedInt(3)
              .appendBytes(new byte[20]));
        }));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void udpAnswersEachMessageThatAsksForAReplyAndDropsMalformedDatagrams(String balancing, Vertx vertx,
                                                                       VertxTestContext test) {
    List<Buffer> expected = List.of(message(3, PONG, 1_400), message(5, PONG, 100), message(7, PONG, 14));
    List<Buffer> received = new ArrayList<>();
    DatagramSocket socket = vertx.createDatagramSocket();
    socket.handler(packet -> {
      received.add(packet.data());
      if (received.size() == expected.size()) {
        test.verify(() -> {
          for (int i = 0; i < expected.size(); i++) {
            assertThat(received.get(i).getBytes()).as("reply %d", i).isEqualTo(expected.get(i).getBytes());
          }
        });
        test.completeNow();
      }
    });
    List<Buffer> datagrams = List.of(
        message(1, CLIENT | PONG | WARMUP, 64),
        message(2, CLIENT, 64),
        message(4, PONG, 64),
        message(3, CLIENT | PONG, 1_400),
        // two messages in one datagram: only the first asks for a reply
        Buffer.buffer().appendBuffer(message(5, CLIENT | PONG, 100)).appendBuffer(message(6, CLIENT, 50)),
        // its length says 500 but it holds 64 bytes: dropped, the socket keeps serving
        message(8, CLIENT | PONG, 64).setUnsignedInt(10, 500),
        message(7, CLIENT | PONG, 14));
    start(new JsonObject().put("balancing", balancing))
        .compose(v -> socket.listen(0, "127.0.0.1"))
        .onComplete(test.succeeding(bound -> sendInOrder(socket, datagrams, 0, test)));
  }

  /** Starts the sockperf service with {@code overrides}. */
  private Future<Void> start(JsonObject overrides) {
    return AsyncServers.start(overrides.put("service", "sockperf")).map(started -> {
      server = started;
      return null;
    });
  }

  private void sendInOrder(DatagramSocket socket, List<Buffer> datagrams, int next, VertxTestContext test) {
    if (next < datagrams.size()) {
      socket.send(datagrams.get(next), server.port(), "127.0.0.1")
          .onComplete(test.succeeding(v -> sendInOrder(socket, datagrams, next + 1, test)));
    }
  }

  /** A sockperf message: sequence number, flags, total length, then a payload of counting bytes. */
  static Buffer message(long sequence, int flags, int length) {
    Buffer b = Buffer.buffer(length).appendLong(sequence).appendUnsignedShort(flags).appendUnsignedInt(length);
    for (int i = SockperfService.HEADER_BYTES; i < length; i++) {
      b.appendByte((byte) i);
    }
    return b;
  }
}
