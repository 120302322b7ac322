package io.reuseport.k8s;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A set of Kubernetes objects read from YAML (files, or the output of {@code kubectl kustomize}) into typed fabric8
 * models. Only the kinds this project ships are accepted, each at the API version it is written for.
 */
final class Manifests {

  static final String KUSTOMIZATION = "kustomization.yaml";

  private static final Map<String, Class<? extends HasMetadata>> KINDS = kinds(List.of(
      ConfigMap.class, Service.class, Deployment.class, PodDisruptionBudget.class, HorizontalPodAutoscaler.class,
      ServiceMonitor.class, PrometheusRule.class));

  private static final YAMLMapper YAML = YAMLMapper.builder(
      YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()).build();

  private final String source;
  private final List<HasMetadata> objects;

  private Manifests(String source, List<HasMetadata> objects) {
    this.source = source;
    this.objects = List.copyOf(objects);
  }

  /** Every manifest file under {@code dir} (YAML, except Kustomize's own files), in path order. */
  static List<Path> manifestFiles(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .filter(p -> !p.getFileName().toString().equals(KUSTOMIZATION))
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Manifests readFiles(String source, List<Path> files) {
    List<HasMetadata> objects = new ArrayList<>();
    for (Path file : files) {
      try {
        objects.addAll(parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new Manifests(source, objects);
  }

  /** The output of {@code kubectl kustomize dir}. */
  static Manifests kustomize(Path dir) {
    String source = "kubectl kustomize " + dir;
    Path kubeconfig = offlineKubeconfig();
    try {
      return new Manifests(source, parse(source, run(List.of("kubectl", "--kubeconfig=" + kubeconfig, "kustomize",
          dir.toString()))));
    } finally {
      deleteQuietly(kubeconfig);
    }
  }

  static boolean kubectlOnPath() {
    return onPath("kubectl");
  }

  /** Whether an executable named {@code tool} is in a directory of the PATH. */
  static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    return Stream.of(path.split(File.pathSeparator))
        .map(d -> Path.of(d, tool))
        .anyMatch(Files::isExecutable);
  }

  String source() {
    return source;
  }

  List<HasMetadata> objects() {
    return objects;
  }

  <T extends HasMetadata> List<T> all(Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).collect(Collectors.toList());
  }

  /** The only object of this kind; fails when there is none or more than one. */
  <T extends HasMetadata> T one(Class<T> kind) {
    List<T> found = all(kind);
    if (found.size() != 1) {
      throw new AssertionError(source + ": expected exactly one " + kind.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }

  private static List<HasMetadata> parse(String source, String yaml) {
    List<HasMetadata> objects = new ArrayList<>();
    try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      int index = 0;
      while (docs.hasNext()) {
        JsonNode doc = docs.nextValue();
        index++;
        if (doc == null || doc.isNull() || doc.isEmpty()) {
          continue;
        }
        String key = doc.path("apiVersion").asText() + " " + doc.path("kind").asText();
        Class<? extends HasMetadata> type = KINDS.get(key);
        if (type == null) {
          throw new AssertionError(source + " document " + index + ": '" + key + "' is not one of " + KINDS.keySet());
        }
        objects.add(YAML.treeToValue(doc, type));
      }
    } catch (IOException e) {
      throw new AssertionError(source + ": not valid YAML for its kind: " + e.getMessage(), e);
    }
    return objects;
  }

  /**
   * A kubeconfig whose only cluster is at port 0 of loopback, where no server can listen: kubectl (and the Google
   * Cloud SDK's version dispatcher, which asks the cluster for its version before running {@code kustomize}) then
   * contacts nothing, instead of falling back to whatever answers on 127.0.0.1:8080.
   */
  private static Path offlineKubeconfig() {
    try {
      Path file = Files.createTempFile("kubeconfig-offline", ".yaml");
      Files.writeString(file, String.join("\n",
          "apiVersion: v1",
          "kind: Config",
          "clusters: [{name: offline, cluster: {server: 'https://127.0.0.1:0'}}]",
          "users: [{name: offline, user: {}}]",
          "contexts: [{name: offline, context: {cluster: offline, user: offline}}]",
          "current-context: offline", ""), StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a temporary file: left for the OS to clean
    }
  }

  /** Runs a command, bounded to 60 s; its standard output, or an AssertionError with its error output. */
  static String run(List<String> command) {
    try {
      Path out = Files.createTempFile("kubectl", ".out");
      Path errors = Files.createTempFile("kubectl", ".err");
      try {
        Process process = new ProcessBuilder(command)
            .redirectOutput(out.toFile()).redirectError(errors.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
        }
        if (process.exitValue() != 0) {
          throw new AssertionError(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
              + Files.readString(errors, StandardCharsets.UTF_8).strip());
        }
        return Files.readString(out, StandardCharsets.UTF_8);
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(errors);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running " + command, e);
    }
  }

  private static Map<String, Class<? extends HasMetadata>> kinds(List<Class<? extends HasMetadata>> types) {
    Map<String, Class<? extends HasMetadata>> kinds = new LinkedHashMap<>();
    for (Class<? extends HasMetadata> type : types) {
      kinds.put(HasMetadata.getApiVersion(type) + " " + HasMetadata.getKind(type), type);
    }
    return kinds;
  }
}
