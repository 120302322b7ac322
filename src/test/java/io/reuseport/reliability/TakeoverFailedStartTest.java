package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * A new process that receives the sockets and then fails to start (its admin port is held by a socket without
 * {@code SO_REUSEPORT}, the failure the issue saw): it exits 1, the old process logs the abandoned takeover, serves
 * on, and hands over to the next process. Real processes; the test blocks on their output and exit codes.
 */
@Timeout(110)
class TakeoverFailedStartTest {

  @TempDir
  Path dir;

  @Test
  void aNewProcessThatCannotStartLeavesTheOldOneServingAndReadyForAnother() throws Exception {
    Path control = dir.resolve("control.sock");
    try (ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--control-socket", control.toString());
         ServerSocket adminTaken = new ServerSocket(0, 50, Clients.LOOPBACK)) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 30);
      // the admin port is held by a socket without SO_REUSEPORT: the new process receives the sockets, then fails
      try (ChildServer failing = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-host", "127.0.0.1",
          "--admin-port", Integer.toString(adminTaken.getLocalPort()), "--instances", "2", "--takeover",
          control.toString())) {
        assertThat(failing.awaitExit(60)).as("output %s", failing.output()).isEqualTo(1);
      }
      old.awaitLine("abandoned", 30);
      assertThat(old.output()).noneMatch(l -> l.contains("handing over"));
      try (Socket fresh = Clients.connect(port)) {
        assertThat(echo(fresh, 8)).isEqualTo(8);
      }
      try (ChildServer next = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
          "--instances", "2", "--takeover", control.toString())) {
        assertThat(next.awaitReadyPort(60)).isEqualTo(port);
        assertThat(old.awaitExit(60)).isZero();
        next.terminate();
        assertThat(next.awaitExit(60)).isZero();
      }
    }
  }

  private static int echo(Socket s, int value) throws IOException {
    s.getOutputStream().write(value);
    return s.getInputStream().read();
  }
}
