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
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server in a child process whose bounding set lacks CAP_BPF and CAP_SYS_ADMIN (as a pod without the bpf
 * overlay): {@code auto} serves with the kernel's hash and says why, {@code bpf} refuses to start. Root only (to
 * have the capabilities to drop); blocks on the child's output, as a user would read it.
 */
@Timeout(90)
class SteeringFallbackTest {

  private static final List<String> WITHOUT_BPF = List.of("setpriv", "--bounding-set", "-bpf,-sys_admin",
      "--inh-caps", "-all");

  @TempDir
  Path dir;

  @BeforeEach
  void rootWithSetpriv() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: needs root to have CAP_BPF to drop");
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs setpriv (util-linux)");
  }

  @Test
  void autoWithoutCapBpfServesWithTheKernelsHashAndSaysWhy() throws Exception {
    try (ChildServer child = ChildServer.startUnder(WITHOUT_BPF, dir, Map.of(), List.of(), "--host", "127.0.0.1",
        "--port", "0", "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2")) {
      int adminPort = child.awaitReadyAdminPort(60);
      JsonObject steering = Admin.freshStats(adminPort).getJsonObject("steering");
      assertThat(steering.getString("configured")).isEqualTo("auto");
      assertThat(steering.getString("selector")).isEqualTo("kernel");
      assertThat(steering.getString("reason")).contains("neither CAP_BPF nor CAP_SYS_ADMIN");
      assertThat(Admin.get(adminPort, "/metrics").body()).contains("reuseport_steering_active 0.0")
          .contains("reuseport_steering_info{configured=\"auto\"");
      assertThat(child.output().stream().filter(l -> l.contains("steering auto: the kernel's hash")))
          .as("one line at start").hasSize(1);
      child.terminate();
      assertThat(child.awaitExit(30)).isZero();
    }
  }

  @Test
  void bpfWithoutCapBpfExitsTwoWithTheReason() throws Exception {
    try (ChildServer child = ChildServer.startUnder(WITHOUT_BPF, dir, Map.of(), List.of(), "--host", "127.0.0.1",
        "--port", "0", "--admin-port", "0", "--steering", "bpf")) {
      assertThat(child.awaitExit(60)).isEqualTo(2);
      assertThat(child.output()).filteredOn(l -> l.startsWith("reuseport-server:")).singleElement()
          .asString().contains("'steering'").contains("bpf required").contains("neither CAP_BPF nor CAP_SYS_ADMIN");
      assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
    }
  }

  @Test
  void bpfWithSharedBalancingIsAConfigurationError() throws Exception {
    try (ChildServer child = ChildServer.start(dir, Map.of(), "--port", "0", "--admin-port", "0",
        "--steering", "bpf", "--balancing", "shared")) {
      assertThat(child.awaitExit(60)).isEqualTo(2);
      assertThat(child.output()).anyMatch(l -> l.contains("'steering'") && l.contains("--balancing reuseport"));
    }
  }
}
