package io.reuseport.reliability;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Servers;
import io.reuseport.upgrade.ControlServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: a peer of another user is a separate process; the test waits on what it gets.
/**
 * The control socket answers only its own UID: even with the file mode opened up, a peer of another user gets the
 * connection closed without a word ({@code SO_PEERCRED}). Root only (it runs the peer as uid 65534).
 */
@Timeout(60)
class ControlSocketPeerTest {

  private static final String PYTHON = "/usr/bin/python3";

  @TempDir
  Path dir;

  @Test
  void aPeerOfAnotherUidIsRefused() throws Exception {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: needs root to run a peer as another user (setpriv --reuid=65534)");
    Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "skipped: needs " + PYTHON + " for the peer");
    RunningServer server = Servers.start(new JsonObject());
    Path path = dir.resolve("control.sock");
    ControlServer control = ControlServer.start(path, server, () -> { }).await();
    try {
      // open the door wide: only the UID check is left to refuse
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
      String peer = "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('" + path + "')\ns.settimeout(5)\n"
          + "print('received', len(s.recv(100)))";
      Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PYTHON, "-c",
          peer).redirectErrorStream(true).start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertThat(out).as("the peer reads EOF, not the offer").isEqualTo("received 0");
      assertThat(server.tcpListenerFds()).as("still serving").hasSize(2);
    } finally {
      control.close().await();
      server.stop().await();
    }
  }
}
