package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One same-host upgrade under churn load, run in its own network namespace by {@link UpgradeScenarioTest} (or by
 * hand): an old server process serves port 9000, churn starts, a new process starts and becomes ready, the old one
 * goes (SIGTERM for {@code plain}, the hand-over for {@code takeover}), churn goes on until at least
 * {@value #MIN_ATTEMPTS} TCP attempts were made since the new process started. Prints one {@code RESULT {json}} line.
 *
 * <p>Usage: {@code UpgradeScenario plain|takeover [kernel|bpf|auto] [tcpThreads]} (steering of both processes,
 * default kernel; churn clients, default 32). It uses loopback port 9000: run it in a private network
 * namespace ({@code unshare -n}), where nothing else is.
 */
public final class UpgradeScenario {

  static final int MIN_ATTEMPTS = 20_000;
  private static final int PORT = 9000;
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
    boolean takeover = args.length > 0 && args[0].equals("takeover");
    String steering = args.length > 1 ? args[1] : "kernel";
    int tcpThreads = args.length > 2 ? Integer.parseInt(args[2]) : TCP_THREADS;
    Path dir = Files.createTempDirectory("upgrade-scenario");
    Path control = dir.resolve("control.sock");
    List<String> common = List.of("--host", "127.0.0.1", "--admin-port", "0", "--instances", "2",
        "--drain-timeout-seconds", "10", "--stats-interval-ms", "1000", "--steering", steering);
    List<String> oldArgs = new ArrayList<>(common);
    oldArgs.addAll(List.of("--port", Integer.toString(PORT)));
    List<String> newArgs = new ArrayList<>(common);
    if (takeover) {
      oldArgs.addAll(List.of("--control-socket", control.toString()));
      newArgs.addAll(List.of("--takeover", control.toString()));
    } else {
      newArgs.addAll(List.of("--port", Integer.toString(PORT)));
    }
    JsonObject result = new JsonObject().put("scenario", takeover ? "takeover" : "plain close")
        .put("steering", steering).put("tcpClients", tcpThreads)
        .put("tcpMigrateReq", Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim());
    try (ChildServer old = ChildServer.start(dir, Map.of(), oldArgs.toArray(String[]::new))) {
      int port = old.awaitReadyPort(60);
      try (Churn churn = new Churn(port, tcpThreads, UDP_THREADS)) {
        // churn on the old process for a while before the upgrade: load over time, not a wait for anything
        Thread.sleep(1_000);
        long before = churn.tcpAttempts.sum();
        long udpBefore = churn.udpSent.sum();
        long started = System.nanoTime();
        try (ChildServer upgraded = ChildServer.start(dir, Map.of(), newArgs.toArray(String[]::new))) {
          upgraded.awaitReadyPort(60);
          if (!takeover) {
            old.terminate();
          }
          result.put("oldExitCode", old.awaitExit(60));
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
    }
    System.out.println("RESULT " + result.encode());
  }
}
