package io.reuseport.steer;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * UDP flows moved around a stall: once the stall is over, a flow that went {@code udpFlowIdleSeconds} without a
 * datagram is placed afresh by the table and comes home, while a flow that kept sending stays where it went
 * (stateful UDP must not move). The control: the same run with the default idle time (120 s, far longer than the
 * run) brings no flow home. Blocking clients on purpose: what is tested is where the kernel puts each datagram.
 * Root only (CAP_BPF).
 */
@Timeout(120)
class UdpFlowIdleTest {

  private static final int FLOWS = 64;
  private static final int IDLE_SECONDS = 2;
  /** How long the flows send (or not) once the instance is back: longer than the idle time, with room to spare. */
  private static final long QUIET_MS = TimeUnit.SECONDS.toMillis(IDLE_SECONDS) + 1_500;
  /** A live flow's datagrams come this often: well inside the idle time. */
  private static final long LIVE_EVERY_MS = 250;
  private static final int DEADLINE_MS = 1_000;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @Test
  void aFlowMovedByAStallComesHomeOnceIdleWhileALiveOneStays() throws Exception {
    Moves moves = stallThenWait(new JsonObject().put("udpFlowIdleSeconds", IDLE_SECONDS));
    assertThat(moves.quiet).as("quiet flows moved by the stall").isNotEmpty();
    assertThat(moves.live).as("live flows moved by the stall").isNotEmpty();
    for (Flow f : moves.quiet) {
      assertThat(f.after).as("a flow quiet for %d ms after the stall: home again", QUIET_MS).isEqualTo(f.home);
    }
    for (Flow f : moves.live) {
      assertThat(f.seen).as("a live flow, every datagram since the stall moved it").containsOnly(f.during);
      assertThat(f.after).as("a live flow after the stall: where it went").isEqualTo(f.during);
    }
    assertThat(moves.pinned).as("datagrams of live flows kept away from their table's instance").isPositive();
  }

  @Test
  void controlWithTheDefaultIdleTimeNoMovedFlowComesHome() throws Exception {
    Moves moves = stallThenWait(new JsonObject());
    assertThat(moves.quiet).isNotEmpty();
    for (Flow f : moves.quiet) {
      assertThat(f.after).as("a quiet flow, 120 s idle time not reached: where it went").isEqualTo(f.during);
    }
    for (Flow f : moves.live) {
      assertThat(f.after).isEqualTo(f.during);
    }
  }

  /**
   * Opens the flows, stalls the instance of some of them, and while it is out asks again (the flows of the stalled
   * instance move); then every second moved flow keeps sending and the others fall silent, through the stall and
   * for {@link #QUIET_MS} after the instance is back in the table; then asks once more.
   */
  private static Moves stallThenWait(JsonObject settings) throws Exception {
    // four instances: on a busy machine the watchdog judges a slow loop by how long its healthy peers wait
    RunningServer server = Servers.start(settings.put("service", "stall").put("steering", "bpf")
        .put("instances", 4));
    List<DatagramSocket> sockets = new ArrayList<>();
    try {
      assertThat(server.steering().active()).isTrue();
      List<Flow> flows = new ArrayList<>();
      for (int i = 0; i < FLOWS; i++) {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0));
        s.setSoTimeout(DEADLINE_MS);
        sockets.add(s);
        flows.add(new Flow(s, Clients.instanceOf(s, server.port())));
      }
      SteeringStallTest.Stall stall = SteeringStallTest.Stall.begin(server.port());
      awaitSteeredAround(server, stall.instance);
      Moves moves = new Moves();
      for (Flow f : flows) {
        f.during = Clients.instanceOf(f.socket, server.port());
        if (f.home == stall.instance) {
          assertThat(f.during).as("a flow of the stalled instance, during the stall").isNotEqualTo(stall.instance);
          (moves.quiet.size() <= moves.live.size() ? moves.quiet : moves.live).add(f);
        }
      }
      // the live flows send through the rest of the stall and the recovery, then for longer than the idle time
      // with their instance back in the table (a flow kept by mistake only until it idles would come home then)
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SteeringStallTest.STALL_MS + 20_000);
      long backSince = 0;
      while (backSince == 0 || System.nanoTime() - backSince < TimeUnit.MILLISECONDS.toNanos(QUIET_MS)) {
        assertThat(System.nanoTime()).as("the stalled instance back in the table").isLessThan(deadline);
        for (Flow f : moves.live) {
          f.seen.add(Clients.instanceOf(f.socket, server.port()));
        }
        if (backSince == 0 && !server.steering().toJson().getJsonArray("instances").getJsonObject(stall.instance)
            .getBoolean("steeredAround")) {
          backSince = System.nanoTime();
        }
        // the pace of a live flow's datagrams; the loop is bounded by the deadline and the quiet time
        Thread.sleep(LIVE_EVERY_MS);
      }
      stall.awaitEnd();
      assertThat(Clients.reachesInstance(server.port(), stall.instance)).as("new connections reach instance %d again",
          stall.instance).isTrue();
      for (Flow f : flows) {
        f.after = Clients.instanceOf(f.socket, server.port());
      }
      // what the uneven-spread warning reads: the live flows' datagrams since the instance came back were pinned
      for (Object o : server.steering().toJson().getJsonArray("instances")) {
        JsonObject instance = (JsonObject) o;
        moves.pinned += instance.getLong("pinnedDatagrams");
      }
      return moves;
    } finally {
      sockets.forEach(DatagramSocket::close);
      server.stop().await();
    }
  }

  private static void awaitSteeredAround(RunningServer server, int instance) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    boolean out;
    while (!(out = server.steering().toJson().getJsonArray("instances").getJsonObject(instance)
        .getBoolean("steeredAround")) && System.nanoTime() < deadline) {
      // poll pause: the steering view has no change event; the loop ends on the flag or the deadline
      Thread.sleep(10);
    }
    assertThat(out).as("instance %d steered around within 2 s of its stall", instance).isTrue();
  }

  private static final class Flow {
    final DatagramSocket socket;
    final int home;
    int during = -1;
    int after = -1;
    final List<Integer> seen = new ArrayList<>();

    Flow(DatagramSocket socket, int home) {
      this.socket = socket;
      this.home = home;
    }
  }

  private static final class Moves {
    final List<Flow> quiet = new ArrayList<>();
    final List<Flow> live = new ArrayList<>();
    long pinned;
  }
}
