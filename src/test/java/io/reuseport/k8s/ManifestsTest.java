package io.reuseport.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Sysctl;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Checks the Kubernetes manifests in {@code k8s/} offline: every file, and the output of {@code kubectl kustomize}
 * for the base and each overlay when kubectl is on the PATH, must read into typed fabric8 models without unknown
 * fields and follow {@link Conventions}.
 */
class ManifestsTest {

  private static final Path K8S = Path.of("k8s");
  private static final Path BASE = K8S.resolve("base");
  private static final Path OVERLAYS = K8S.resolve("overlays");
  private static final Path CONF = Path.of("conf", "config.json");
  static final Path PROMETHEUS_RULE = OVERLAYS.resolve("prod").resolve("prometheus-rule.yaml");
  static final Path GRAFANA_DASHBOARD = OVERLAYS.resolve("prod").resolve("grafana-dashboard.json");
  private static final Map<Path, Manifests> RENDERED = new ConcurrentHashMap<>();
  /** Capabilities an overlay may add: only the bpf overlay, only CAP_BPF (the steering selector). */
  private static final Map<Path, Set<String>> GRANTED = Map.of(OVERLAYS.resolve("bpf"), Set.of("BPF"));

  @TestFactory
  Stream<DynamicTest> everyManifestFileReadsIntoTypedModelsWithoutUnknownFields() {
    List<Path> files = Manifests.manifestFiles(K8S);
    assertThat(files).as("manifest files under %s", K8S).isNotEmpty();
    return files.stream().map(file -> dynamicTest(file.toString(), () -> {
      Manifests m = Manifests.readFiles(file.toString(), List.of(file));
      assertThat(m.objects()).as("%s holds no Kubernetes object", file).isNotEmpty();
      assertNoUnknownFields(m);
    }));
  }

  @Test
  void baseConfigIsAByteForByteCopyOfConf() throws IOException {
    assertThat(Files.readAllBytes(BASE.resolve("config.json")))
        .as("%s must be a copy of %s (Kustomize cannot read files outside the base): cp %s %s",
            BASE.resolve("config.json"), CONF, CONF, BASE.resolve("config.json"))
        .isEqualTo(Files.readAllBytes(CONF));
  }

  @TestFactory
  Stream<DynamicTest> baseFilesFollowConventions() {
    return new Conventions(Manifests.readFiles(BASE.toString(), Manifests.manifestFiles(BASE)), CONF).tests().stream();
  }

  @TestFactory
  Stream<DynamicContainer> kustomizeOutputFollowsConventions() {
    assumeKubectl();
    return kustomizations().stream().map(ManifestsTest::renderedChecks);
  }

  @Test
  void overlaysIncludeDevAndProd() {
    assertThat(kustomizations()).contains(OVERLAYS.resolve("dev"), OVERLAYS.resolve("prod"));
  }

  @Test
  void devRunsOneReplica() {
    assumeKubectl();
    assertThat(rendered(OVERLAYS.resolve("dev")).one(Deployment.class).getSpec().getReplicas())
        .as("dev replicas").isEqualTo(1);
  }

  @Test
  void prodRunsThreeReplicas() {
    assumeKubectl();
    assertThat(rendered(OVERLAYS.resolve("prod")).one(Deployment.class).getSpec().getReplicas())
        .as("prod replicas").isEqualTo(3);
  }

  @Test
  void prodHasDisruptionBudgetAutoscalerAndServiceMonitor() {
    assumeKubectl();
    Manifests prod = rendered(OVERLAYS.resolve("prod"));
    prod.one(PodDisruptionBudget.class);
    prod.one(ServiceMonitor.class);
    HorizontalPodAutoscaler hpa = prod.one(HorizontalPodAutoscaler.class);
    assertThat(hpa.getSpec().getMinReplicas())
        .as("HPA minReplicas must not undercut the prod replica count (apply would otherwise fight the HPA)")
        .isGreaterThanOrEqualTo(prod.one(Deployment.class).getSpec().getReplicas());
  }

  @Test
  void prodShipsAlertsAndTheGrafanaDashboard() throws IOException {
    assumeKubectl();
    Manifests prod = rendered(OVERLAYS.resolve("prod"));
    prod.one(PrometheusRule.class);
    List<ConfigMap> dashboards = prod.all(ConfigMap.class).stream()
        .filter(m -> m.getMetadata().getLabels() != null
            && "1".equals(m.getMetadata().getLabels().get("grafana_dashboard")))
        .collect(Collectors.toList());
    assertThat(dashboards).as("prod ConfigMaps labelled grafana_dashboard=1").hasSize(1);
    assertThat(dashboards.get(0).getData()).as("dashboard ConfigMap data")
        .containsEntry(GRAFANA_DASHBOARD.getFileName().toString(), Files.readString(GRAFANA_DASHBOARD));
  }

  @Test
  void migrateReqOverlaySetsTheSysctl() {
    assumeKubectl();
    Deployment d = rendered(OVERLAYS.resolve("migrate-req")).one(Deployment.class);
    List<Sysctl> sysctls = Optional.ofNullable(d.getSpec().getTemplate().getSpec().getSecurityContext())
        .map(PodSecurityContext::getSysctls).orElse(List.of());
    assertThat(sysctls).as("migrate-req pod sysctls")
        .anyMatch(s -> s.getName().equals("net.ipv4.tcp_migrate_req") && s.getValue().equals("1"));
  }

  @Test
  void bpfOverlayGrantsCapBpfAndNothingElseAndRequiresTheSelector() {
    assumeKubectl();
    Deployment d = rendered(OVERLAYS.resolve("bpf")).one(Deployment.class);
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getSecurityContext().getCapabilities().getAdd()).as("capabilities added").containsExactly("BPF");
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).as("capabilities dropped").contains("ALL");
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    // a non-root process loses an added capability at exec: the overlay runs as uid 0 (see its comments)
    assertThat(d.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser()).isZero();
    assertThat(c.getEnv()).as("the pod fails loudly where CAP_BPF does not take effect")
        .anyMatch(e -> e.getName().equals("REUSEPORT_STEERING") && "bpf".equals(e.getValue()));
  }

  @Test
  void httpOverlayServesAnHttpServiceOnAPortNamedHttpWithReadinessOnTheAdminPort() {
    assumeKubectl();
    Manifests http = rendered(OVERLAYS.resolve("http"));
    Container c = http.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getEnv()).anyMatch(e -> e.getName().equals("REUSEPORT_SERVICE") && "hello-http".equals(e.getValue()));
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("admin");
    assertThat(http.one(Service.class).getSpec().getPorts())
        .extracting(p -> p.getName() + "/" + p.getProtocol())
        .containsExactly("http/TCP", "admin/TCP");
  }

  private static DynamicContainer renderedChecks(Path dir) {
    Manifests m;
    try {
      m = rendered(dir);
    } catch (AssertionError e) {
      return dynamicContainer(dir.toString(), Stream.of(dynamicTest("kubectl kustomize", () -> {
        throw e;
      })));
    }
    List<DynamicTest> tests = new ArrayList<>();
    tests.add(dynamicTest("no unknown fields", () -> assertNoUnknownFields(m)));
    tests.addAll(new Conventions(m, CONF, GRANTED.getOrDefault(dir, Set.of())).tests());
    return dynamicContainer(dir.toString(), tests);
  }

  private static Manifests rendered(Path dir) {
    return RENDERED.computeIfAbsent(dir, Manifests::kustomize);
  }

  /** The base and every overlay directory with a kustomization.yaml. */
  private static List<Path> kustomizations() {
    try (Stream<Path> overlays = Files.list(OVERLAYS)) {
      List<Path> dirs = new ArrayList<>(List.of(BASE));
      dirs.addAll(overlays.filter(d -> Files.isRegularFile(d.resolve(Manifests.KUSTOMIZATION))).sorted()
          .collect(Collectors.toList()));
      return dirs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void assertNoUnknownFields(Manifests m) {
    List<String> unknown = m.objects().stream()
        .flatMap(o -> UnknownFields.in(o).stream().map(u -> o.getKind() + " " + o.getMetadata().getName() + " " + u))
        .collect(Collectors.toList());
    assertThat(unknown).as("%s: fields the Kubernetes API does not know (misspelt or misplaced?)", m.source())
        .isEmpty();
  }

  private static void assumeKubectl() {
    assumeTrue(Manifests.kubectlOnPath(), "kubectl is not on the PATH: kustomize output not checked");
  }
}
