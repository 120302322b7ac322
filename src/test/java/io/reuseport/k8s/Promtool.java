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
      Path output = Files.createTempFile("promtool", ".out");
      try {
        YAML.writeValue(file.toFile(), rules);
        Process process = new ProcessBuilder(List.of("promtool", "check", "rules", file.toString()))
            .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError(where + ": promtool check rules did not finish within " + TIMEOUT_SECONDS + " s");
        }
        if (process.exitValue() != 0) {
          throw new AssertionError(where + ": promtool check rules failed:\n"
              + Files.readString(output, StandardCharsets.UTF_8).strip());
        }
      } finally {
        Files.deleteIfExists(file);
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running promtool", e);
    }
  }
}
