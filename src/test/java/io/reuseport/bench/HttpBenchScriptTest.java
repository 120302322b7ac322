package io.reuseport.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A bounded smoke run of bench/http.sh (issue 21's HTTP benchmark) against nginx alone: one round of 1 s per load, no
 * warm-up, about 5 s. Checks what the full comparison relies on: each load's requests, errors and server CPU per
 * request parsed from wrk's and h2load's reports, nginx's workers counted (one kernel listener each), the
 * {@code Connection: close} load really opening a connection per request and keep-alive not, and the markdown
 * section replacing an earlier one in the file it goes into, the file's other sections kept. Runs separate
 * programs and blocks on them. Skipped with a message where wrk, h2load or nginx is missing. The script's
 * connection count is the network namespace's (/proc/net/snmp): as root the script runs in a namespace of its own
 * ({@code unshare -n}), where other work on the machine adds none; without root, on the host's loopback.
 */
@Timeout(120)
class HttpBenchScriptTest {

  @Test
  void nginxUnderEveryLoadReportsRequestsCpuAndConnections(@TempDir Path dir) throws Exception {
    for (String tool : List.of("wrk", "h2load", "nginx")) {
      assumeTrue(onPath(tool), tool + " is not installed (Debian: apt-get install wrk nghttp2-client nginx-light):"
          + " skipped");
    }
    Path docs = dir.resolve("BENCHMARKS.md");
    Files.writeString(docs, "# Benchmarks\n\n## Throughput\n\nkept\n\n## HTTP: an earlier run\n\nreplaced\n\n"
        + "## Steering\n\nkept too\n");
    Path json = dir.resolve("http.json");

    List<String> command = new ArrayList<>(List.of("bench/http.sh", "--servers", "nginx", "--instances", "2",
        "--rounds", "1", "--duration", "1", "--server-warmup", "0", "--into", docs.toString(), "--json",
        json.toString()));
    if (run("unshare", "-n", "true") == 0) {
      command.addAll(0, List.of("unshare", "-n", "--", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh"));
    }
    Process script = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(script.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(script.exitValue()).as(output).isZero();

    JsonObject report = new JsonObject(Files.readString(json));
    assertThat(report.getJsonArray("servers")).containsExactly(new JsonObject().put("name", "nginx-2")
        .put("listeners", 2));
    Map<String, JsonObject> runs = runsByLoad(report.getJsonArray("runs"));
    assertThat(runs).as(output).containsOnlyKeys("keep-alive", "close", "h2c");
    for (JsonObject run : runs.values()) {
      assertThat(run.getLong("requests")).as(run.encode()).isPositive();
      assertThat(run.getLong("errors")).as(run.encode()).isZero();
      assertThat(run.getLong("non2xx")).as(run.encode()).isZero();
      assertThat(run.getDouble("serverCpuUsPerRequest")).as(run.encode()).isPositive();
    }
    JsonObject close = runs.get("close");
    assertThat(close.getLong("connectionsOpened")).as("a new connection per request: %s", close.encode())
        .isGreaterThanOrEqualTo(close.getLong("requests"));
    JsonObject keepAlive = runs.get("keep-alive");
    assertThat(keepAlive.getLong("connectionsOpened")).as("keep-alive: %s", keepAlive.encode())
        .isLessThan(keepAlive.getLong("requests") / 10);

    String markdown = Files.readString(docs);
    assertThat(markdown).doesNotContain("an earlier run", "replaced\n")
        .contains("kept\n", "kept too\n", "### Issue 21 targets", "| server CPU per request, keep-alive:");
    assertThat(markdown.indexOf("## Throughput")).isLessThan(markdown.indexOf("## HTTP: nginx"));
    assertThat(markdown.indexOf("## HTTP: nginx")).isLessThan(markdown.indexOf("## Steering"));
  }

  private static Map<String, JsonObject> runsByLoad(JsonArray runs) {
    return runs.stream().map(JsonObject.class::cast)
        .collect(Collectors.toMap(run -> run.getString("load"), Function.identity()));
  }

  private static boolean onPath(String tool) throws InterruptedException {
    return run("sh", "-c", "command -v " + tool) == 0;
  }

  /** Runs a short command to its end (10 s at most); its exit code, or -1 when it cannot start or run. */
  private static int run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      return -1;
    }
  }
}
