package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.FarewellService;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code tcpHalfClose} setting over real sockets. Blocking: only {@code java.net.Socket} shuts down one direction
 * of a connection ({@code shutdownOutput}), which is what this is about.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HalfCloseTest {

  private RunningServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop().await();
    }
  }

  @Test
  void byDefaultAPeerThatShutsItsSideDownGetsItsRepliesAndTheServiceHearsOfTheEnd() throws IOException {
    server = Servers.start(new JsonObject().put("service", "farewell"));
    assertThat(sendThenShutDown("last words")).isEqualTo("last words" + FarewellService.FAREWELL);
  }

  @Test
  void withHalfCloseOffTheServerClosesAtThePeersEndAfterTheRepliesAlreadyWritten() throws IOException {
    server = Servers.start(new JsonObject().put("service", "farewell").put("tcpHalfClose", false));
    assertThat(sendThenShutDown("last words")).as("echoed, no farewell: onEnd is not called")
        .isEqualTo("last words");
  }

  /** Sends the text, shuts down this side, and returns everything the server sent until it closed. */
  private String sendThenShutDown(String text) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setSoTimeout(30_000);
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
      socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
      socket.shutdownOutput();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }
}
