package io.reuseport.reliability;

import io.vertx.core.json.JsonObject;

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

/**
 * Runs a scenario program (a main class of the test classes that prints one {@code RESULT {json}} line, such as
 * {@link UpgradeScenario}) in a network namespace of its own, where it may use fixed ports and set
 * {@code net.ipv4.tcp_migrate_req} without touching the host; and keeps its figures in {@code target/reliability/}.
 * Root only: the tests skip themselves with {@link #isRoot()}. Blocks on the child process.
 */
final class NamespacedScenario {

  private static final Path FIGURES = Path.of("target", "reliability");

  private NamespacedScenario() {
  }

  /**
   * Runs {@code mainClass} with {@code args} in a new network namespace (loopback up, {@code tcp_migrate_req} set to
   * {@code migrateReq}, the whole local port range) and returns the JSON of its {@code RESULT} line; fails, with the
   * program's output, when it printed none.
   */
  static JsonObject run(int migrateReq, String mainClass, String... args) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=" + migrateReq
        + " && sysctl -qw net.ipv4.ip_local_port_range='1024 65000'"
        + " && exec \"$0\" -cp \"$1\" " + mainClass + " " + String.join(" ", args);
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
    return result;
  }

  /** Writes a scenario's result to {@code target/reliability/NAME.json}, for the figures in docs/RELIABILITY.md. */
  static void record(String name, JsonObject result) throws IOException {
    Files.createDirectories(FIGURES);
    Files.writeString(FIGURES.resolve(name + ".json"), result.encodePrettily());
  }

  static boolean isRoot() throws IOException {
    return Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t");
  }
}
