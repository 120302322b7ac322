package io.reuseport.testkit;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The test kit as a service author uses it: a real echo server per test, a Vert.x client the kit keeps and closes.
 */
@ExtendWith(VertxExtension.class)
@ServerUnderTest(service = "echo", instances = 2)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ServerExtensionTest {

  @Test
  void theServerUnderTestAnswersOnItsPort(RunningServer server, NetClient client, VertxTestContext test) {
    assertThat(server.instances()).hasSize(2);
    client.connect(server.port(), "127.0.0.1").onComplete(test.succeeding(socket -> {
      socket.handler(data -> test.verify(() -> {
        assertThat(data.toString()).isEqualTo("ping");
        socket.close().onComplete(test.succeedingThenComplete());
      }));
      socket.write(Buffer.buffer("ping"));
    }));
  }

  @Test
  @ServerUnderTest(service = "discard", instances = 1, config = "{\"statsIntervalMs\": 60000}")
  void aMethodsAnnotationWinsOverTheClasss(RunningServer server) {
    assertThat(server.config().service()).isEqualTo("discard");
    assertThat(server.instances()).hasSize(1);
    assertThat(server.config().statsIntervalMs()).isEqualTo(60_000);
  }

  /** java.net's socket: Vert.x's DatagramSocket cannot send an empty datagram (Netty skips empty writes). */
  @Test
  void anEmptyDatagramIsEchoedEmpty(RunningServer server) throws Exception {
    try (DatagramSocket socket = Clients.udp()) {
      socket.send(new DatagramPacket(new byte[0], 0, new InetSocketAddress(Clients.LOOPBACK, server.port())));
      DatagramPacket reply = new DatagramPacket(new byte[16], 16);
      socket.receive(reply);
      assertThat(reply.getLength()).isZero();
    }
  }
}
