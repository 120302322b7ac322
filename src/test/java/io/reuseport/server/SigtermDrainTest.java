package io.reuseport.server;

import io.reuseport.admin.AdminRoutes;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.KeepAliveHttp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: a child JVM gets a real SIGTERM; the test waits on its exit and a java.net transfer.
/**
 * SIGTERM drains: a transfer under way completes, then the process exits 0 within the drain timeout.
 */
@Timeout(120)
class SigtermDrainTest {

  private static final int CHUNK = 64 * 1024;
  private static final int CHUNKS = 32;

  @TempDir
  Path dir;

  /**
   * During a drain the instances are draining, not stale; liveness stays up without naming anyone. The instance
   * without the idle connection finishes its drain at once and stops reporting: before, it was then called stale.
   */
  @Test
  void drainingInstancesAreMarkedDrainingNeverStale() throws Exception {
    ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-host",
        "127.0.0.1", "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "10");
    try (child; Socket idle = Clients.connect(child.awaitReadyPort(60))) {
      int admin = child.adminPort();
      idle.getOutputStream().write(1);
      assertThat(idle.getInputStream().read()).isEqualTo(1);
      child.terminate();
      int duringDrain = 0;
      Set<Object> seenDraining = new HashSet<>();
      // the idle connection keeps the drain going for 10 s (over 1.5 stats intervals): look at the server
      // throughout, until it is gone
      while (true) {
        String stats;
        String live;
        // one plain HTTP/1.1 connection per request, as a probe makes it
        try (KeepAliveHttp http = new KeepAliveHttp(admin)) {
          stats = http.get(AdminRoutes.STATS);
          live = http.get(AdminRoutes.LIVE);
        } catch (ConnectException gone) {
          break;
        } catch (IOException slowOrClosing) {
          continue;
        }
        if (!stats.startsWith("200 ")) {
          // the collector did not answer in time (a loaded machine) or has just stopped: look again
          continue;
        }
        JsonObject report = new JsonObject(stats.substring(4));
        JsonObject liveness = new JsonObject(live.substring(4));
        if (!report.getJsonArray("draining").isEmpty()) {
          duringDrain++;
          assertThat(report.getJsonArray("stale")).as("stale while draining").isEmpty();
          // the instances mark themselves draining each on its own loop: a report may fall between the two
          assertThat(report.getJsonArray("draining").getList()).isSubsetOf(0, 1);
          seenDraining.addAll(report.getJsonArray("draining").getList());
        }
        assertThat(live.startsWith("503 ")).as("liveness %s", live)
            .isEqualTo(!liveness.getJsonArray("unresponsiveInstances").isEmpty());
      }
      assertThat(duringDrain).as("reports seen during the drain; output %s", child.output()).isPositive();
      assertThat(seenDraining).as("instances seen draining").containsExactlyInAnyOrder(0, 1);
      assertThat(child.awaitExit(30)).as("exit code; output %s", child.output()).isZero();
      List<String> output = child.output();
      int signalled = output.indexOf(output.stream().filter(l -> l.contains("SIGTERM received")).findFirst()
          .orElseThrow());
      // (a loaded machine may delay an instance's first report at start-up: only the drain is judged here)
      assertThat(output.subList(signalled, output.size())).noneMatch(l -> l.contains("is stale"));
      assertThat(child.output()).anyMatch(l -> l.contains("closing 1 connection still open"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void transferUnderWayCompletesThenProcessExitsZero(String balancing) throws Exception {
    ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--balancing", balancing, "--drain-timeout-seconds", "20");
    try (child; Socket s = Clients.connect(child.awaitReadyPort(60))) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      Random random = new Random(7);
      byte[] chunk = new byte[CHUNK];
      byte[] echoed = new byte[CHUNK];
      for (int i = 0; i < CHUNKS; i++) {
        if (i == CHUNKS / 2) {
          child.terminate();
        }
        random.nextBytes(chunk);
        out.write(chunk);
        in.readNBytes(echoed, 0, CHUNK);
        assertThat(Arrays.equals(chunk, echoed)).as("chunk %d intact", i).isTrue();
      }
      s.shutdownOutput();
      assertThat(in.read()).as("server closes after our end").isEqualTo(-1);
      assertThat(child.awaitExit(30)).as("exit code; output %s", child.output()).isZero();
      assertThat(child.output()).anyMatch(l -> l.contains("SIGTERM received: draining"));
    }
  }
}
