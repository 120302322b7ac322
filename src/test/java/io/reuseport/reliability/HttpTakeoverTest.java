package io.reuseport.reliability;

import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes hand the listeners over; the test waits on their output, exits and clients.
/**
 * An HTTP service's listeners are ours, so a takeover hands them over as a byte service's: the new process serves
 * the same listening sockets (same port, same descriptors' sockets in the kernel, none closed), with no UDP socket
 * on either side, and the old process drains and exits 0. (The full no-loss check under wrk load is the drain
 * suite's.)
 */
@Timeout(180)
class HttpTakeoverTest {

  @TempDir
  Path dir;

  @Test
  void theNewProcessServesTheOldHttpListenersAndTheOldOneExitsZero() throws Exception {
    Path control = dir.resolve("control.sock");
    try (ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port",
        "0", "--instances", "2", "--service", "hello-http", "--control-socket", control.toString())) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 60);
      assertThat(plaintext(port)).isEqualTo("Hello, World!");
      List<Long> listeners = inodes(port);
      assertThat(listeners).hasSize(2);

      try (ChildServer upgraded = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
          "--instances", "2", "--service", "hello-http", "--takeover", control.toString())) {
        assertThat(upgraded.awaitReadyPort(60)).isEqualTo(port);
        assertThat(old.awaitExit(60)).as("old exit code; output %s", old.output()).isZero();
        assertThat(plaintext(port)).as("answered by the new process").isEqualTo("Hello, World!");
        assertThat(inodes(port)).as("the same listening sockets, handed over").isEqualTo(listeners);
        assertThat(upgraded.output()).anyMatch(l -> l.contains("HTTP") && l.contains("(taken over)"));
        upgraded.terminate();
        assertThat(upgraded.awaitExit(60)).isZero();
      }
    }
  }

  private static String plaintext(int port) throws Exception {
    HttpResponse<String> response = Admin.get(port, "/plaintext");
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private static List<Long> inodes(int port) {
    return KernelSockets.tcpListeners(port).stream().map(KernelSockets.Entry::inode).sorted().toList();
  }
}
