package io.reuseport.reliability;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: processes in a network namespace under load; the test waits on them and their report.
/**
 * Same-host upgrades, each in a private network namespace where {@code net.ipv4.tcp_migrate_req} can be set without
 * touching the host. Under churn load ({@link UpgradeScenario}): plain close with the sysctl at 0 (the failures are
 * measured and written down, they are the problem), plain close with it at 1, and listener takeover (both: no
 * failure at all), with the kernel's hash; and the plain close at 0 with the BPF selector in both processes and 64
 * clients (no failure at all). Whether a churn run has connections queued on the old listeners when they close is
 * chance, so the claim that the selector saves them is {@link QueuedCloseScenario}'s, deterministic: with the
 * sysctl at 0, the old process leaves with {@value QueuedCloseScenario#QUEUED} connections queued on its listeners;
 * with the selector (loaded as {@code SELECT_OR_MIGRATE}) every one is answered by the new process, with the kernel's
 * hash (the control) every one is lost. Root only. Figures go to {@code target/reliability/}.
 */
class UpgradeScenarioTest {

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(NamespacedScenario.isRoot(), "skipped: needs root to create a network namespace"
        + " (unshare -n) and set net.ipv4.tcp_migrate_req in it; run as root to measure upgrades");
  }

  @ParameterizedTest(name = "{0}, steering {3}, {4} clients, tcp_migrate_req={1}")
  @CsvSource({"plain, 0, false, kernel, 32", "plain, 1, true, kernel, 32", "takeover, 0, true, kernel, 32",
      "plain, 0, true, bpf, 64"})
  @Timeout(value = 200, unit = TimeUnit.SECONDS)
  void upgradeUnderChurn(String mode, int migrateReq, boolean mustLoseNothing, String steering, int clients)
      throws Exception {
    JsonObject result = NamespacedScenario.run(migrateReq, UpgradeScenario.class.getName(), mode, steering,
        Integer.toString(clients));
    record("upgrade-" + mode + "-" + steering + "-migrate" + migrateReq, result);

    assertThat(result.getInteger("oldExitCode")).as("old process exit code").isZero();
    assertThat(result.getLong("tcpAttemptsSinceNewStarted")).isGreaterThanOrEqualTo(UpgradeScenario.MIN_ATTEMPTS);
    if (mustLoseNothing) {
      assertThat(result.getLong("tcpFailed")).as("failed TCP connections: %s", result).isZero();
      assertThat(result.getLong("udpLost")).as("lost UDP echoes: %s", result).isZero();
    }
  }

  @ParameterizedTest(name = "steering {0}: {1} of the queued connections answered")
  @CsvSource({"bpf, all", "kernel, none"})
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void connectionsQueuedOnTheOldListenersWhenTheyCloseMoveToTheNewProcessOnlyWithTheSelector(String steering,
      String answered) throws Exception {
    JsonObject result = NamespacedScenario.run(0, QueuedCloseScenario.class.getName(), steering);
    record("upgrade-queued-" + steering, result);

    assertThat(result.getInteger("oldExitCode")).as("killed: %s", result).isEqualTo(128 + 9);
    assertThat(result.getInteger("answered")).as("queued connections answered after the old process left: %s",
        result).isEqualTo(answered.equals("all") ? QueuedCloseScenario.QUEUED : 0);
    assertThat(result.getInteger("newExitCode")).as("new process exit code: %s", result).isZero();
  }

  private static void record(String name, JsonObject result) throws IOException {
    NamespacedScenario.record(name, result);
    System.out.println(name + ": " + result.encode());
  }
}
