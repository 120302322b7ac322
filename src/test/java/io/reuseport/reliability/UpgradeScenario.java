package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One same-host upgrade under churn load, run in its own network namespace by {@link UpgradeScenarioTest} (or by
 * hand): an old server process serves port 9000, churn starts, a new process starts and becomes ready, the old one
 * goes (SIGTERM for {@code plain}, the hand-over for {@code takeover}: {@link SameHostUpgrade}), churn goes on until
 * at least {@value #MIN_ATTEMPTS} TCP attempts were made since the new process started. Prints one
 * {@code RESULT {json}} line.
 *
 * <p>Usage: {@code UpgradeScenario plain|takeover [kernel|bpf|auto] [tcpThreads]} (steering of both processes,
 * default kernel; churn clients, default 32). It uses loopback port 9000: run it in a private network
 * namespace ({@code unshare -n}), where nothing else is.
 */
public final class UpgradeScenario {

  static final int MIN_ATTEMPTS = 20_000;
  private static final long MAX_CHURN_MS = 60_000;
  /**
   * Blocking churn clients, one connection in flight each; {@code -Dupgrade.tcpThreads=N} runs the scenario by hand
   * with more in flight (burstier accept queues).
   */
  private static final int TCP_THREADS = Integer.getInteger("upgrade.tcpThreads", 32);
  private static final int UDP_THREADS = 4;

  private UpgradeScenario() {
  }

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "plain";
    String steering = args.length > 1 ? args[1] : "kernel";
    int tcpThreads = args.length > 2 ? Integer.parseInt(args[2]) : TCP_THREADS;
    SameHostUpgrade upgrade = new SameHostUpgrade(mode, Files.createTempDirectory("upgrade-scenario"),
        List.of("--host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "10",
            "--stats-interval-ms", "1000", "--steering", steering), List.of());
    JsonObject result = new JsonObject().put("scenario", upgrade.takeover() ? "takeover" : "plain close")
        .put("steering", steering).put("tcpClients", tcpThreads)
        .put("tcpMigrateReq", SameHostUpgrade.tcpMigrateReq());
    try (ChildServer old = upgrade.startOld();
        Churn churn = new Churn(SameHostUpgrade.PORT, tcpThreads, UDP_THREADS)) {
      // churn on the old process for a while before the upgrade: load over time, not a wait for anything
      Thread.sleep(1_000);
      long before = churn.tcpAttempts.sum();
      long udpBefore = churn.udpSent.sum();
      long started = System.nanoTime();
      try (ChildServer upgraded = upgrade.startNew()) {
        result.put("oldExitCode", upgrade.retire(old));
        long oldGone = System.nanoTime();
        // at least a second after the old process left, and enough attempts since the new one started
        while ((churn.tcpAttempts.sum() - before < MIN_ATTEMPTS || System.nanoTime() - oldGone < 1_000_000_000L)
            && System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(MAX_CHURN_MS)) {
          // poll pause: the loop ends on the churn's counts and the clock, bounded by MAX_CHURN_MS
          Thread.sleep(100);
        }
        churn.close();
        result.put("switchSeconds", (oldGone - started) / 1e9)
            .put("tcpAttemptsSinceNewStarted", churn.tcpAttempts.sum() - before)
            .put("udpSentSinceNewStarted", churn.udpSent.sum() - udpBefore)
            .mergeIn(churn.counts());
        upgraded.terminate();
        result.put("newExitCode", upgraded.awaitExit(60));
      }
    }
    System.out.println("RESULT " + result.encode());
  }
}
