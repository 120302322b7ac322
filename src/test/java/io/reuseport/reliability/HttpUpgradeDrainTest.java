package io.reuseport.reliability;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: processes in a network namespace under wrk load; the test waits on them and their report.
/**
 * Upgrades of an HTTP service lose no request: a plain upgrade (start new, SIGTERM old, with
 * {@code net.ipv4.tcp_migrate_req=1} so that the closing listeners' queues move to the new process) and a
 * {@code --takeover} (with the sysctl at 0: no listener closes), each under wrk with 64 keep-alive connections and
 * wrk with 64 {@code Connection: close} ones at once ({@link HttpUpgradeScenario}): no socket error and no non-2xx
 * answer in either report. The control, in the same test: the plain upgrade with the old process's drain skipped
 * ({@code drainTimeoutSeconds 0}: its connections closed at once) loses keep-alive requests. Root only (a private
 * network namespace per case), wrk needed; each case is skipped with a message otherwise. Figures go to
 * {@code target/reliability/http-upgrade-*.json}.
 */
class HttpUpgradeDrainTest {

  @ParameterizedTest(name = "{0}, drainTimeoutSeconds {2}, tcp_migrate_req={1}")
  @CsvSource({"plain, 1, 10", "takeover, 0, 10", "plain, 1, 0"})
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void upgradeUnderWrkLoad(String mode, int migrateReq, int drainSeconds) throws Exception {
    Assumptions.assumeTrue(NamespacedScenario.isRoot(), "skipped: needs root to create a network namespace"
        + " (unshare -n) and set net.ipv4.tcp_migrate_req in it");
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/wrk")), "skipped: wrk not installed (Debian wrk)");
    JsonObject result = NamespacedScenario.run(migrateReq, HttpUpgradeScenario.class.getName(), mode,
        Integer.toString(drainSeconds));
    NamespacedScenario.record("http-upgrade-" + mode + "-drain" + drainSeconds, result);
    JsonObject keepAlive = result.getJsonObject("keepAlive");
    JsonObject close = result.getJsonObject("connectionClose");
    System.out.println("http upgrade " + mode + " drain " + drainSeconds + " tcp_migrate_req=" + migrateReq
        + ": switch " + result.getDouble("switchSeconds") + " s; keep-alive " + summary(keepAlive)
        + "; Connection: close " + summary(close));

    assertThat(result.getInteger("oldExitCode")).as("old process exit code").isZero();
    assertThat(keepAlive.getLong("requests")).as(keepAlive.getString("report")).isPositive();
    assertThat(close.getLong("requests")).as(close.getString("report")).isPositive();
    if (drainSeconds > 0) {
      for (JsonObject wrk : List.of(keepAlive, close)) {
        assertThat(wrk.getString("report")).as("wrk report").doesNotContain("Socket errors")
            .doesNotContain("Non-2xx");
      }
    } else {
      // the control: connections closed with requests on their way lose them
      assertThat(keepAlive.getLong("readErrors") + keepAlive.getLong("writeErrors"))
          .as("keep-alive requests lost without the drain: %s", keepAlive.getString("report")).isPositive();
    }
  }

  private static String summary(JsonObject wrk) {
    return wrk.getLong("requests") + " requests, socket errors connect/read/write/timeout "
        + wrk.getLong("connectErrors") + "/" + wrk.getLong("readErrors") + "/" + wrk.getLong("writeErrors") + "/"
        + wrk.getLong("timeouts") + ", non-2xx " + wrk.getLong("non2xx");
  }
}
