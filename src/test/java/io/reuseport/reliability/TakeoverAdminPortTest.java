package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * Two takeovers in a row with one fixed admin port (the one the first process got), under churn on the service
 * port and a liveness probe on the admin port that never stops: no connection fails, no probe goes unanswered.
 * Real processes; the test blocks on their output and exit codes.
 */
@Timeout(115)
class TakeoverAdminPortTest {

  @TempDir
  Path dir;

  @Test
  void theAdminPortAnswersThroughTwoTakeoversInARow() throws Exception {
    Path control = dir.resolve("control.sock");
    ChildServer current = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "5",
        "--control-socket", control.toString());
    try {
      int port = current.awaitReadyPort(60);
      int adminPort = current.adminPort();
      current.awaitLine("control socket " + control, 30);
      try (Churn churn = new Churn(port, 4, 2); AdminProbe probe = new AdminProbe(adminPort)) {
        for (int round = 1; round <= 2; round++) {
          ChildServer next = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-host", "127.0.0.1",
              "--admin-port", Integer.toString(adminPort), "--instances", "2", "--drain-timeout-seconds", "5",
              "--takeover", control.toString());
          assertThat(next.awaitReadyPort(60)).as("round %d: %s", round, next.output()).isEqualTo(port);
          assertThat(next.adminPort()).isEqualTo(adminPort);
          assertThat(current.awaitExit(60)).as("round %d, old output %s", round, current.output()).isZero();
          next.awaitLine("control socket " + control, 30);
          System.out.println("old output: " + String.join("\n", current.output()));
          current.close();
          current = next;
        }
        long probesAfter = probe.attempts.sum() + 20;
        while (probe.attempts.sum() < probesAfter) {
          // poll pause: the loop ends once the probe has made 20 more attempts on the last process
          Thread.sleep(20);
        }
        churn.close();
        probe.close();
        System.out.println("outputs: " + String.join("\n", current.output()));
        System.out.println("figure: two takeovers, churn " + churn.counts().encode() + ", admin " + probe);
        assertThat(churn.tcpFailed.sum()).as("failed connections: %s", churn.counts()).isZero();
        assertThat(churn.udpLost.sum()).as("lost datagrams: %s", churn.counts()).isZero();
        assertThat(probe.failed.sum()).as("%s", probe).isZero();
        assertThat(probe.attempts.sum()).isGreaterThan(20);
      }
      current.terminate();
      assertThat(current.awaitExit(60)).isZero();
      assertThat(control).as("control socket removed on stop").doesNotExist();
    } finally {
      current.close();
    }
  }
}
