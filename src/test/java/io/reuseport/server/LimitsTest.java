package io.reuseport.server;

import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code maxConnectionsPerInstance} and {@code idleTimeoutSeconds}, in both balancing modes.
 */
@Timeout(60)
class LimitsTest {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void connectionsOverTheLimitAreClosedAtOnceAndCounted(String balancing) throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("balancing", balancing).put("instances", 1)
        .put("maxConnectionsPerInstance", 3));
    List<Socket> admitted = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = Clients.connect(server.port());
        admitted.add(s);
        assertThat(echo(s, i)).isEqualTo(i);
      }
      for (int i = 0; i < 5; i++) {
        try (Socket over = Clients.connect(server.port())) {
          assertThat(readOrEof(over)).as("connection over the limit").isEqualTo(-1);
        }
      }
      assertThat(Servers.total(server, "tcp", "rejected")).isEqualTo(5);
      assertThat(Servers.total(server, "tcp", "active")).isEqualTo(3);
      // the admitted ones still work, and a slot freed is a slot usable
      assertThat(echo(admitted.get(2), 42)).isEqualTo(42);
      admitted.remove(0).close();
      awaitActive(server, 2);
      try (Socket again = Clients.connect(server.port())) {
        assertThat(echo(again, 7)).isEqualTo(7);
      }
    } finally {
      for (Socket s : admitted) {
        s.close();
      }
      server.stop().await();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void idleConnectionsAreClosed(String balancing) throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("balancing", balancing).put("idleTimeoutSeconds", 1));
    try (Socket s = Clients.connect(server.port())) {
      assertThat(echo(s, 1)).isEqualTo(1);
      // no traffic: the server closes it after about a second; the read ends with EOF, not the 5 s client timeout
      assertThat(readOrEof(s)).isEqualTo(-1);
      awaitActive(server, 0);
      assertThat(Servers.total(server, "tcp", "closed")).isEqualTo(1);
    } finally {
      server.stop().await();
    }
  }

  private static int echo(Socket s, int value) throws IOException {
    s.getOutputStream().write(value);
    return s.getInputStream().read();
  }

  private static int readOrEof(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    try {
      return in.read();
    } catch (java.net.SocketException reset) {
      return -1;
    }
  }

  /** Waits, bounded by the test's timeout, until the server has seen the close. */
  private static void awaitActive(RunningServer server, long expected) throws InterruptedException {
    while (Servers.total(server, "tcp", "active") != expected) {
      Thread.sleep(20);
    }
  }
}
