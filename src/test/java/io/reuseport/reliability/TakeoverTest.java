package io.reuseport.reliability;

import io.reuseport.config.ConfigException;
import io.reuseport.config.ConfigLoader;
import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

// Blocking by design: real processes hand sockets over; the test waits on their output, exits and clients.
/**
 * Listener takeover between real processes: the new one serves the old one's sockets (same port, same UDP flow),
 * the old one drains a connection it holds and exits 0, and the new one serves the control socket for the next.
 */
@Timeout(180)
class TakeoverTest {

  @TempDir
  Path dir;

  @Test
  void newProcessServesTheOldSocketsAndTheOldOneDrainsAndExitsZero() throws Exception {
    Path control = dir.resolve("control.sock");
    ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--drain-timeout-seconds", "20", "--control-socket", control.toString());
    try (old; Socket held = Clients.connect(old.awaitReadyPort(60)); DatagramSocket flow = Clients.udp()) {
      int port = held.getPort();
      old.awaitLine("control socket " + control, 60);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(control))).isEqualTo("rw-------");
      assertThat(echo(held, 1)).isEqualTo(1);
      assertThat(echoUdp(flow, port, 2)).isEqualTo(2);

      // more instances than sockets received: the third binds its own, none is closed
      ChildServer upgraded = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
          "--instances", "3", "--takeover", control.toString());
      try (upgraded) {
        assertThat(upgraded.awaitReadyPort(60)).isEqualTo(port);
        assertThat(echo(held, 3)).as("a connection of the old process drains").isEqualTo(3);
        held.close();
        assertThat(old.awaitExit(60)).as("old exit code; output %s", old.output()).isZero();
        assertThat(old.output()).anyMatch(l -> l.contains("handing over and draining"));

        try (Socket fresh = Clients.connect(port)) {
          assertThat(echo(fresh, 4)).isEqualTo(4);
        }
        assertThat(echoUdp(flow, port, 5)).as("the same UDP flow, now served by the new process").isEqualTo(5);
        assertThat(KernelSockets.tcpListeners(port)).hasSize(3);

        // the new process took the control socket path over: the next upgrade finds it there
        upgraded.awaitLine("control socket " + control, 60);
        ChildServer third = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
            "--instances", "1", "--takeover", control.toString());
        try (third) {
          assertThat(third.awaitReadyPort(60)).isEqualTo(port);
          assertThat(upgraded.awaitExit(60)).as("output %s", upgraded.output()).isZero();
          try (Socket fresh = Clients.connect(port)) {
            assertThat(echo(fresh, 6)).isEqualTo(6);
          }
          assertThat(KernelSockets.tcpListeners(port)).as("one instance serves all 3 listeners").hasSize(3);
          third.terminate();
          assertThat(third.awaitExit(60)).isZero();
        }
      }
    }
  }

  @Test
  void takeoverWithoutARunningServerServesOnItsOwnAndRemovesItsControlSocketOnStop() throws Exception {
    Path control = dir.resolve("nobody.sock");
    try (ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-port", "0", "--takeover", control.toString())) {
      int port = child.awaitReadyPort(60);
      assertThat(child.output()).anyMatch(l -> l.contains("takeover from") && l.contains("nobody.sock")
          && l.contains("binding sockets of its own"));
      try (Socket fresh = Clients.connect(port)) {
        assertThat(echo(fresh, 7)).isEqualTo(7);
      }
      child.awaitLine("control socket " + control, 60);
      assertThat(control).exists();
      child.terminate();
      assertThat(child.awaitExit(60)).isZero();
      assertThat(control).as("the control socket file is removed on stop").doesNotExist();
    }
  }

  @Test
  void controlSocketNeedsEpollAndReusePort() {
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("controlSocket", "/tmp/x.sock")
        .put("balancing", "shared"))).isInstanceOf(ConfigException.class).hasMessageContaining("controlSocket");
  }

  private static int echo(Socket s, int value) throws IOException {
    s.getOutputStream().write(value);
    return s.getInputStream().read();
  }

  private static int echoUdp(DatagramSocket socket, int port, int value) throws IOException {
    socket.send(new DatagramPacket(new byte[] {(byte) value}, 1, new InetSocketAddress(Clients.LOOPBACK, port)));
    DatagramPacket in = new DatagramPacket(new byte[16], 16);
    socket.receive(in);
    return in.getData()[0];
  }
}
