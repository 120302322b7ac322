package io.reuseport.k8s;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' own checker (Debian's {@code prometheus} package) on the rule groups of a {@link PrometheusRule}: the
 * operator hands Prometheus exactly {@code spec.groups}, so that is what {@code promtool check rules} reads.
 */
final class Promtool {

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final long TIMEOUT_SECONDS = 60;

  private Promtool() {
  }

  static boolean onPath() {
    return Manifests.onPath("promtool");
  }

  /** Fails with promtool's own report when it rejects the rule's groups. */
  static void checkRules(String where, PrometheusRule rule) {
    check(where, Map.of("groups", rule.getSpec().getGroups()));
  }

  /**
   * Runs promtool's unit tests in {@code cases} on the rule's groups, written as {@code rulesFileName} in
   * {@code dir} next to a copy of {@code cases} (which names that file in its rule_files).
   */
  static void testRules(String where, PrometheusRule rule, Path cases, Path dir, String rulesFileName)
      throws IOException {
    YAML.writeValue(dir.resolve(rulesFileName).toFile(), Map.of("groups", rule.getSpec().getGroups()));
    Path copy = Files.copy(cases, dir.resolve(cases.getFileName()));
    run(where, List.of("promtool", "test", "rules", copy.toString()));
  }

  /** Fails when one of these queries is no valid PromQL: promtool parses them as recording rules. */
  static void checkQueries(String where, List<String> queries) {
    List<Map<String, String>> rules = new ArrayList<>();
    for (int i = 0; i < queries.size(); i++) {
      rules.add(Map.of("record", "query_" + i, "expr", queries.get(i)));
    }
    check(where, Map.of("groups", List.of(Map.of("name", "queries", "rules", rules))));
  }

  private static void check(String where, Object rules) {
    try {
      Path file = Files.createTempFile("prometheus-rule", ".yaml");
      try {
        YAML.writeValue(file.toFile(), rules);
        run(where, List.of("promtool", "check", "rules", file.toString()));
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs promtool, bounded in time; fails with its own report when it exits non-zero. */
  private static void run(String where, List<String> command) throws IOException {
    Path output = Files.createTempFile("promtool", ".out");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(where + ": " + String.join(" ", command) + " did not finish within "
            + TIMEOUT_SECONDS + " s");
      }
      if (process.exitValue() != 0) {
        throw new AssertionError(where + ": " + String.join(" ", command) + " failed:\n"
            + Files.readString(output, StandardCharsets.UTF_8).strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running promtool", e);
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
