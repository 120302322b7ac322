package io.reuseport.reliability;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: processes in a network namespace under load; the test waits on them and their report.
/**
 * Same-host upgrades under churn load, each in a private network namespace where {@code net.ipv4.tcp_migrate_req}
 * can be set without touching the host: plain close with the sysctl at 0 (the failures are measured and written
 * down, they are the problem), plain close with it at 1, and listener takeover (both: no failure at all), all with
 * the kernel's hash; and three runs of the plain close at 0 with the BPF selector in both processes and 64 clients
 * (the new process's program takes the group, the old listeners' queues migrate to it: no failure at all). Root only.
 * Figures go to {@code target/reliability/}.
 */
class UpgradeScenarioTest {

  @ParameterizedTest(name = "{0}, steering {3}, {4} clients, tcp_migrate_req={1}")
  @CsvSource({"plain, 0, false, kernel, 32", "plain, 1, true, kernel, 32", "takeover, 0, true, kernel, 32",
      "plain, 0, true, bpf, 64", "plain, 0, true, bpf, 64", "plain, 0, true, bpf, 64"})
  @Timeout(value = 200, unit = TimeUnit.SECONDS)
  void upgradeUnderChurn(String mode, int migrateReq, boolean mustLoseNothing, String steering, int clients)
      throws Exception {
    Assumptions.assumeTrue(isRoot(), "skipped: needs root to create a network namespace (unshare -n) and set"
        + " net.ipv4.tcp_migrate_req in it; run as root to measure upgrades");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=" + migrateReq
        + " && sysctl -qw net.ipv4.ip_local_port_range='1024 65000'"
        + " && exec \"$0\" -cp \"$1\" io.reuseport.reliability.UpgradeScenario " + mode + " " + steering + " "
        + clients;
    Process p = new ProcessBuilder("unshare", "-n", "--", "sh", "-c", script, java,
        System.getProperty("java.class.path")).redirectErrorStream(true).start();
    List<String> output = new ArrayList<>();
    JsonObject result = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        output.add(line);
        if (line.startsWith("RESULT ")) {
          result = new JsonObject(line.substring(7));
        }
      }
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(result).as("scenario output: %s", output).isNotNull();
    Path out = Path.of("target", "reliability");
    Files.createDirectories(out);
    Files.writeString(out.resolve("upgrade-" + mode + "-" + steering + "-migrate" + migrateReq + ".json"),
        result.encodePrettily());
    System.out.println("upgrade " + mode + " steering " + steering + " tcp_migrate_req=" + migrateReq + ": "
        + result.encode());

    assertThat(result.getInteger("oldExitCode")).as("old process exit code").isZero();
    assertThat(result.getLong("tcpAttemptsSinceNewStarted")).isGreaterThanOrEqualTo(UpgradeScenario.MIN_ATTEMPTS);
    if (mustLoseNothing) {
      assertThat(result.getLong("tcpFailed")).as("failed TCP connections: %s", result).isZero();
      assertThat(result.getLong("udpLost")).as("lost UDP echoes: %s", result).isZero();
    }
  }

  private static boolean isRoot() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Uid:")) {
        return line.split("\\s+")[2].equals("0");
      }
    }
    return false;
  }
}
