package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * The new process of a takeover killed with SIGKILL at several points of the protocol, under churn: the old one
 * logs each abandoned takeover, keeps serving throughout, and hands over to a later process. Killed before it
 * served the sockets, nothing fails; killed while it serves them, the connections it had accepted die with it
 * (the inherent exception, counted here). Real processes; the test blocks on their output and exit codes.
 */
@Timeout(115)
class TakeoverKillTest {

  /** Where the new process is killed: the line it logged just before, and whether it served the sockets then. */
  private record Point(String line, boolean serving) {
  }

  private static final List<Point> POINTS = List.of(
      new Point("taking over port", false),         // got the offer, asks for the sockets
      new Point("received 4 sockets", false),       // holds the sockets, starts Vert.x
      new Point("(taken over)", true));             // an instance serves the received sockets

  @TempDir
  Path dir;

  @Test
  void theOldProcessServesThroughKilledTakeoversAndHandsOverToALaterOne() throws Exception {
    Path control = dir.resolve("control.sock");
    try (ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "5",
        "--control-socket", control.toString())) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 30);
      JsonObject figures = new JsonObject();
      try (Churn churn = new Churn(port, 2, 1)) {
        int abandoned = 0;
        for (Point point : POINTS) {
          long failedBefore = churn.tcpFailed.sum();
          long lostBefore = churn.udpLost.sum();
          try (ChildServer doomed = newProcess(control)) {
            doomed.awaitLine(point.line(), 60);
            doomed.signal("KILL");
            doomed.awaitExit(30);
          }
          abandoned++;
          old.awaitLineCount("abandoned", abandoned, 30);
          assertThat(old.isAlive()).isTrue();
          assertThat(Echo.tcp(port)).as("old serves after a kill at '%s'", point.line()).isTrue();
          figures.put(point.line(), new JsonObject().put("tcpFailed", churn.tcpFailed.sum() - failedBefore)
              .put("udpLost", churn.udpLost.sum() - lostBefore));
          if (!point.serving()) {
            assertThat(churn.tcpFailed.sum() - failedBefore).as("killed at '%s': %s", point.line(),
                churn.counts()).isZero();
          }
        }
        assertThat(old.output()).noneMatch(l -> l.contains("handing over"));

        try (ChildServer next = newProcess(control)) {
          assertThat(next.awaitReadyPort(60)).isEqualTo(port);
          assertThat(old.awaitExit(60)).as("old output %s", old.output()).isZero();
          long failedBefore = churn.tcpFailed.sum();
          // churn on the new process for a while: load over time, not a wait for anything
          Thread.sleep(1_000);
          churn.close();
          figures.put("takeover", new JsonObject().put("tcpFailed", churn.tcpFailed.sum() - failedBefore));
          System.out.println("figure: SIGKILL of the new process, per point " + figures.encode() + ", churn "
              + churn.counts().encode());
          assertThat(churn.tcpFailed.sum() - failedBefore).isZero();
          assertThat(Echo.udp(port, 16)).isEqualTo(16);
          next.terminate();
          assertThat(next.awaitExit(60)).isZero();
        }
      }
    }
  }

  private ChildServer newProcess(Path control) throws Exception {
    return ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-host", "127.0.0.1", "--admin-port", "0",
        "--instances", "2", "--drain-timeout-seconds", "5", "--takeover", control.toString());
  }
}
