package io.reuseport.steer;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After a takeover the new process steers the sockets it received: it put them in its own maps and attached its
 * own program (the old program, still attached were it not replaced, would never learn of the new process's
 * stall). Real processes; root only (CAP_BPF); blocks on the children's output.
 */
@Timeout(180)
class SteeringTakeoverTest {

  @TempDir
  Path dir;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @Test
  void theNewProcessSteersAroundItsOwnStalledInstance() throws Exception {
    Path control = dir.resolve("control.sock");
    ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--service", "stall", "--control-socket", control.toString());
    try (old) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 60);
      ChildServer upgraded = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
          "--instances", "2", "--service", "stall", "--takeover", control.toString());
      try (upgraded) {
        int adminPort = upgraded.awaitReadyAdminPort(60);
        assertThat(old.awaitExit(60)).as("old exit code; output %s", old.output()).isZero();
        JsonObject steering = Admin.freshStats(adminPort).getJsonObject("steering");
        assertThat(steering.getString("selector")).as("steering after takeover: %s", steering).isEqualTo("bpf");

        SteeringStallTest.Stall stall = SteeringStallTest.Stall.begin(port);
        List<SteeringStallTest.Attempt> attempts = new ArrayList<>();
        while (stall.elapsedMs() < SteeringStallTest.STALL_MS - 1_000) {
          attempts.add(SteeringStallTest.tcpAttempt(port, stall));
        }
        stall.awaitEnd();
        List<SteeringStallTest.Attempt> late = attempts.stream()
            .filter(a -> a.startedMs() >= SteeringStallTest.STEERED_AFTER_MS).toList();
        assertThat(late).as("connections started >= 500 ms into a stall of the new process").isNotEmpty()
            .allMatch(a -> a.ok() && a.instance() != stall.instance);
        upgraded.terminate();
        assertThat(upgraded.awaitExit(60)).isZero();
      }
    }
  }
}
