package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One same-host upgrade of an HTTP service under wrk load, run in its own network namespace by
 * {@link HttpUpgradeDrainTest} (or by hand): an old {@code hello-http} process serves port 9000; two wrk runs start,
 * 64 keep-alive connections and 64 {@code Connection: close} ones (a new connection per request); a new process
 * starts and becomes ready; the old one goes (SIGTERM for {@code plain}, the hand-over for {@code takeover}:
 * {@link SameHostUpgrade}); a
 * second after it exited both wrk runs are stopped (SIGINT: wrk prints its report). Prints one
 * {@code RESULT {json}} line with wrk's figures.
 *
 * <p>Usage: {@code HttpUpgradeScenario plain|takeover DRAIN_SECONDS} ({@code drainTimeoutSeconds} of the old
 * process; 0 closes its connections at once, the control). It uses loopback port 9000: run it in a private
 * network namespace ({@code unshare -n}), where nothing else is.
 */
public final class HttpUpgradeScenario {

  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
  private static final Pattern SOCKET_ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");

  private HttpUpgradeScenario() {
  }

  public static void main(String[] args) throws Exception {
    String drainSeconds = args[1];
    Path dir = Files.createTempDirectory("http-upgrade");
    SameHostUpgrade upgrade = new SameHostUpgrade(args[0], dir, List.of("--service", "hello-http", "--host",
        "127.0.0.1", "--admin-port", "0", "--instances", "2", "--steering", "kernel"),
        List.of("--drain-timeout-seconds", drainSeconds));
    JsonObject result = new JsonObject().put("scenario", upgrade.takeover() ? "takeover" : "plain")
        .put("oldDrainTimeoutSeconds", Integer.parseInt(drainSeconds))
        .put("tcpMigrateReq", SameHostUpgrade.tcpMigrateReq());
    String url = "http://127.0.0.1:" + SameHostUpgrade.PORT + "/plaintext";
    try (ChildServer old = upgrade.startOld()) {
      Wrk keepAlive = Wrk.start(dir, "keepalive", url);
      Wrk close = Wrk.start(dir, "close", url, "-H", "Connection: close");
      try {
        // load on the old process for a while before the upgrade: load over time, not a wait for anything
        Thread.sleep(1_000);
        long started = System.nanoTime();
        try (ChildServer upgraded = upgrade.startNew()) {
          result.put("oldExitCode", upgrade.retire(old));
          result.put("oldClosedAfterDrain", old.output().stream().filter(l -> l.contains("still open after the drain"))
              .toList());
          result.put("switchSeconds", (System.nanoTime() - started) / 1e9);
          // load on the new process alone for a second
          Thread.sleep(1_000);
          result.put("keepAlive", keepAlive.stop()).put("connectionClose", close.stop());
          upgraded.terminate();
          result.put("newExitCode", upgraded.awaitExit(60));
        }
      } finally {
        keepAlive.process.destroyForcibly();
        close.process.destroyForcibly();
      }
    }
    System.out.println("RESULT " + result.encode());
  }

  /**
   * One wrk run (1 thread, 64 connections) until stopped, bounded to 120 s. The timeout per request is 30 s: on
   * the loaded 2-core machine two JVMs starting under this load made some answers take over 10 s; a request that
   * is really lost shows as a read error (its connection closed unanswered) whatever the timeout.
   */
  private static final class Wrk {

    private final Process process;
    private final Path report;

    private Wrk(Process process, Path report) {
      this.process = process;
      this.report = report;
    }

    static Wrk start(Path dir, String name, String url, String... extra) throws IOException {
      List<String> command = new ArrayList<>(List.of("wrk", "-t1", "-c64", "-d120s", "--timeout", "30s"));
      command.addAll(List.of(extra));
      command.add(url);
      Path report = dir.resolve("wrk-" + name + ".txt");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(report.toFile()).start();
      return new Wrk(p, report);
    }

    /** Stops the run as Ctrl-C does (wrk then prints its report) and returns the report's figures. */
    JsonObject stop() throws IOException, InterruptedException {
      new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("wrk did not stop on SIGINT");
      }
      String text = Files.readString(report, StandardCharsets.UTF_8);
      JsonObject figures = new JsonObject().put("report", text)
          .put("requests", first(REQUESTS, text, 1))
          .put("non2xx", first(NON_2XX, text, 1));
      Matcher errors = SOCKET_ERRORS.matcher(text);
      boolean any = errors.find();
      figures.put("connectErrors", any ? Long.parseLong(errors.group(1)) : 0)
          .put("readErrors", any ? Long.parseLong(errors.group(2)) : 0)
          .put("writeErrors", any ? Long.parseLong(errors.group(3)) : 0)
          .put("timeouts", any ? Long.parseLong(errors.group(4)) : 0);
      return figures;
    }

    private static long first(Pattern pattern, String text, int group) {
      Matcher m = pattern.matcher(text);
      return m.find() ? Long.parseLong(m.group(group)) : 0;
    }
  }
}
