package io.reuseport.reliability;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * SIGTERM to the old process of a takeover while a new one is connecting, at two points of the protocol: the old
 * one stops offering and drains; the new one serves either way, on the sockets it was passed (UDP included: they
 * are never changed for it) or on sockets of its own. Real processes; the test blocks on their output and exit codes.
 */
@Timeout(110)
class OldProcessSigtermTest {

  @TempDir
  Path dir;

  @Test
  void sigtermToTheOldProcessDuringTheExchangeLeavesTheNewOneServing() throws Exception {
    for (String point : List.of("connected to take over", "passed 4 sockets")) {
      Path control = dir.resolve(point.hashCode() + ".sock");
      try (ChildServer old = startOld(control)) {
        int port = old.awaitReadyPort(60);
        old.awaitLine("control socket " + control, 30);
        try (ChildServer next = startNew(control, "--port", Integer.toString(port))) {
          old.awaitLine(point, 60);
          old.terminate();
          assertThat(old.awaitExit(60)).as("old output %s", old.output()).isZero();
          assertThat(next.awaitReadyPort(60)).as("new output %s", next.output()).isEqualTo(port);
          assertThat(Echo.tcp(port)).isTrue();
          assertThat(Echo.udp(port, 64)).as("UDP echo in the new process after SIGTERM to the old at '%s'; %s",
              point, next.output()).isEqualTo(64);
          assertThat(Admin.get(next.adminPort(), "/health/ready").statusCode()).isEqualTo(200);
          next.terminate();
          assertThat(next.awaitExit(60)).isZero();
        }
      }
    }
  }

  private ChildServer startOld(Path control) throws Exception {
    return ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-host", "127.0.0.1",
        "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "5", "--control-socket",
        control.toString());
  }

  private ChildServer startNew(Path control, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--host", "127.0.0.1", "--admin-host", "127.0.0.1",
        "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "5", "--takeover", control.toString()));
    args.addAll(List.of(more));
    return ChildServer.start(dir, Map.of(), args.toArray(String[]::new));
  }

}
