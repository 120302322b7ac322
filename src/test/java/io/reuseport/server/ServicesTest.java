package io.reuseport.server;

import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The built-in services over real loopback sockets, in both balancing modes.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class ServicesTest {

  private static final int FOUR_MIB = 4 << 20;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void tcpEchoReturnsFourMebibytesIntactThroughBackpressure(String balancing, Vertx vertx, VertxTestContext test)
      throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("balancing", balancing));
    byte[] payload = new byte[FOUR_MIB];
    new Random(42).nextBytes(payload);
    byte[] expected = MessageDigest.getInstance("SHA-256").digest(payload);
    NetClient client = vertx.createNetClient();
    client.connect(server.port(), "127.0.0.1").onComplete(test.succeeding(socket -> {
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
    assertThat(test.awaitCompletion(50, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    server.stop().await();
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
  void udpEchoReturnsEachDatagramToItsSender(String balancing) throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("balancing", balancing));
    try (DatagramSocket a = Clients.udp(); DatagramSocket b = Clients.udp()) {
      // Vert.x's DatagramSocket (shared mode) cannot send an empty datagram: Netty skips empty writes
      int[] sizes = balancing.equals("reuseport") ? new int[] {0, 1, 1_400, 65_507} : new int[] {1, 1_400, 65_507};
      for (int size : sizes) {
        for (DatagramSocket sender : new DatagramSocket[] {a, b}) {
          byte[] out = new byte[size];
          new Random(size + sender.getLocalPort()).nextBytes(out);
          sender.send(new DatagramPacket(out, size, new InetSocketAddress(Clients.LOOPBACK, server.port())));
          DatagramPacket in = new DatagramPacket(new byte[70_000], 70_000);
          sender.receive(in);
          assertThat(in.getLength()).isEqualTo(size);
          assertThat(java.util.Arrays.copyOf(in.getData(), in.getLength())).isEqualTo(out);
        }
      }
    } finally {
      server.stop().await();
    }
  }

  @Test
  void discardAnswersNothingAndKeepsTheConnection() throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("service", "discard").put("instances", 1));
    try (Socket s = Clients.connect(server.port()); DatagramSocket u = Clients.udp()) {
      s.setSoTimeout(500);
      s.getOutputStream().write(new byte[100_000]);
      InputStream in = s.getInputStream();
      assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
      s.getOutputStream().write(new byte[10]);
      assertThatThrownBy(in::read).as("still open, still silent").isInstanceOf(SocketTimeoutException.class);
      assertThat(Servers.total(server, "tcp", "bytesIn")).isEqualTo(100_010);
      assertThat(Servers.total(server, "tcp", "active")).isEqualTo(1);

      u.setSoTimeout(500);
      u.send(new DatagramPacket(new byte[8], 8, new InetSocketAddress(Clients.LOOPBACK, server.port())));
      assertThatThrownBy(() -> u.receive(new DatagramPacket(new byte[16], 16)))
          .isInstanceOf(SocketTimeoutException.class);
    } finally {
      server.stop().await();
    }
  }
}
