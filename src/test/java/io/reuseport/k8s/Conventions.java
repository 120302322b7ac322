package io.reuseport.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.fabric8.openshift.api.model.monitoring.v1.RuleGroup;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.reuseport.admin.AdminRoutes;
import io.reuseport.config.Balancing;
import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import io.reuseport.config.TransportKind;
import io.reuseport.service.Services;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The rules every deployable set of manifests follows, each a {@link DynamicTest}. The server's side of each rule
 * comes from the code and {@code conf/config.json}: the configuration a container would run with is computed by
 * {@link ConfigLoader} from that file plus the container's {@code REUSEPORT_*} variables and flags, and probe paths
 * are checked against {@link AdminRoutes}.
 */
final class Conventions {

  /** What the pod needs after the drain: the server's own stop allowance and JVM exit. */
  static final int MIN_GRACE_MARGIN_SECONDS = 5;

  private static final Pattern ACTIVE_PROCESSORS = Pattern.compile("-XX:ActiveProcessorCount=(\\d+)");
  private static final Pattern PRESTOP_EXEC_SLEEP = Pattern.compile("\\bsleep\\s+(\\d+)\\b");
  private static final List<String> JVM_OPTION_VARIABLES = List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");
  private static final List<String> SEVERITIES = List.of("warning", "critical");
  /** Alerts on fairness judge it as the server does: {@code < fairnessWarnBelow}, {@code >= fairnessMinSample}. */
  private static final String FAIRNESS_ALERT = "Fairness";

  private final Manifests manifests;
  private final Path conf;
  /** Capabilities an overlay may add (e.g. BPF for the steering selector); none by default. */
  private final Set<String> granted;

  Conventions(Manifests manifests, Path conf) {
    this(manifests, conf, Set.of());
  }

  /**
   * Conventions with {@code granted} capabilities allowed in {@code capabilities.add}; a container that adds one
   * may run as uid 0 (the only way a pod's process keeps an added capability), still with drop ALL, no privilege
   * escalation and RuntimeDefault seccomp.
   */
  Conventions(Manifests manifests, Path conf, Set<String> granted) {
    this.manifests = manifests;
    this.conf = conf;
    this.granted = granted;
  }

  List<DynamicTest> tests() {
    List<DynamicTest> tests = new ArrayList<>();
    tests.add(test("has a Deployment and a Service", this::hasDeploymentAndService));
    perContainer(tests, "config is read from a mounted ConfigMap", this::configIsMounted);
    perContainer(tests, "REUSEPORT_* variables and flags are known settings", this::settingsAreKnown);
    perContainer(tests, "TCP and UDP ports (TCP only, named http, for HTTP) equal the configured port",
        this::serviceContainerPorts);
    perContainer(tests, "admin port equals the configured adminPort", this::adminContainerPort);
    perContainer(tests, "probes hit admin routes on the admin port", this::probes);
    perContainer(tests, "instances = CPU limit = ActiveProcessorCount", this::instancesMatchCpus);
    perContainer(tests, "requests equal limits, integer CPU, heap sized from memory", this::resources);
    perContainer(tests, "security context is locked down", this::securityContext);
    perContainer(tests, "writable emptyDir at /tmp", this::tmpIsEmptyDir);
    perContainer(tests, "epoll with reuseport balancing", this::nativeTransport);
    perDeployment(tests, "grace period covers preStop sleep and drain", this::gracePeriod);
    perDeployment(tests, "Prometheus scrape annotations", this::scrapeAnnotations);
    perDeployment(tests, "service links are off", this::serviceLinksOff);
    tests.add(test("Service ports match container ports by name", this::servicePorts));
    tests.add(test("PodDisruptionBudgets select the pods", this::disruptionBudgets));
    tests.add(test("HorizontalPodAutoscalers scale the Deployment", this::autoscalers));
    tests.add(test("ServiceMonitors scrape the admin metrics route", this::serviceMonitors));
    tests.add(test("PrometheusRules pass promtool check rules", this::rulesPassPromtool));
    tests.add(test("alerts have a for, a severity, a summary and a description", this::alertsAreComplete));
    tests.add(test("fairness alerts use the configured threshold and sample", this::fairnessAlertsMatchConfig));
    return tests;
  }

  /** The configuration the container's server would start with (the ConfigMap holds conf/config.json). */
  ServerConfig effectiveConfig(Container c) {
    return ConfigLoader.load(conf, literalEnv(c), flags(c));
  }

  // ---- rules

  private void hasDeploymentAndService() {
    assertThat(manifests.all(Deployment.class)).as("%s: Deployments", manifests.source()).isNotEmpty();
    assertThat(manifests.all(Service.class)).as("%s: Services", manifests.source()).isNotEmpty();
  }

  private void configIsMounted(Deployment d, Container c) {
    String where = where(d, c);
    List<String> args = Optional.ofNullable(c.getArgs()).orElse(List.of());
    int i = args.indexOf("--conf");
    assertThat(i).as("%s: args must pass --conf FILE", where).isNotNegative().isLessThan(args.size() - 1);
    Path file = Path.of(args.get(i + 1));
    VolumeMount mount = mountAt(c, file.getParent().toString())
        .orElseThrow(() -> new AssertionError(where + ": no volume mounted at " + file.getParent()));
    Volume volume = volume(d, mount.getName());
    assertThat(volume.getConfigMap()).as("%s: volume %s must be a ConfigMap", where, volume.getName()).isNotNull();
    assertThat(volume.getConfigMap().getItems()).as("%s: ConfigMap items remapping", where).isNullOrEmpty();
    String name = volume.getConfigMap().getName();
    for (ConfigMap map : manifests.all(ConfigMap.class)) {
      if (map.getMetadata().getName().equals(name)) {
        assertThat(map.getData()).as("%s: ConfigMap %s keys", where, name).containsKey(file.getFileName().toString());
        assertThat(map.getData().get(file.getFileName().toString()))
            .as("%s: ConfigMap %s must hold %s unchanged", where, name, conf)
            .isEqualTo(read(conf));
        return;
      }
    }
    // Raw base files: the ConfigMap is generated by Kustomize, checked in the rendered output.
    assertThat(manifests.all(ConfigMap.class)).as("%s: ConfigMap %s not found", where, name).isEmpty();
  }

  private void settingsAreKnown(Deployment d, Container c) {
    List<String> known = Stream.of(Setting.values()).map(Setting::envVar).collect(Collectors.toList());
    for (EnvVar e : env(c)) {
      if (e.getName().startsWith("REUSEPORT_")) {
        assertThat(known).as("%s: env %s is not a setting", where(d, c), e.getName()).contains(e.getName());
        assertThat(e.getValue()).as("%s: env %s must be a literal value", where(d, c), e.getName()).isNotNull();
      }
    }
    flags(c);
  }

  private void serviceContainerPorts(Deployment d, Container c) {
    int port = effectiveConfig(c).port();
    if (Services.isHttp(effectiveConfig(c).service())) {
      // an HTTP service binds no UDP socket; its TCP port is named http
      assertThat(port(c, port, "TCP")).as("%s: TCP containerPort %d", where(d, c), port).isPresent()
          .hasValueSatisfying(p -> assertThat(p.getName()).as("%s: HTTP port name", where(d, c)).isEqualTo("http"));
      assertThat(port(c, port, "UDP")).as("%s: UDP containerPort of an HTTP service", where(d, c)).isEmpty();
      return;
    }
    ContainerPort tcp = port(c, port, "TCP")
        .orElseThrow(() -> new AssertionError(where(d, c) + ": no TCP containerPort " + port));
    ContainerPort udp = port(c, port, "UDP")
        .orElseThrow(() -> new AssertionError(where(d, c) + ": no UDP containerPort " + port));
    assertThat(tcp.getName()).as("%s: TCP port name", where(d, c)).isNotBlank();
    assertThat(udp.getName()).as("%s: UDP port name", where(d, c)).isNotBlank().isNotEqualTo(tcp.getName());
  }

  private void adminContainerPort(Deployment d, Container c) {
    int admin = effectiveConfig(c).adminPort();
    assertThat(port(c, admin, "TCP")).as("%s: TCP containerPort %d (adminPort)", where(d, c), admin).isPresent();
  }

  private void probes(Deployment d, Container c) {
    checkProbe(d, c, "startupProbe", c.getStartupProbe(), null);
    checkProbe(d, c, "readinessProbe", c.getReadinessProbe(), AdminRoutes.READY);
    checkProbe(d, c, "livenessProbe", c.getLivenessProbe(), AdminRoutes.LIVE);
  }

  private void checkProbe(Deployment d, Container c, String kind, Probe probe, String expectedPath) {
    String where = where(d, c) + " " + kind;
    assertThat(probe).as("%s is missing", where).isNotNull();
    HTTPGetAction get = probe.getHttpGet();
    assertThat(get).as("%s must be an httpGet on the admin server", where).isNotNull();
    assertThat(AdminRoutes.all()).as("%s path %s is not served by the admin server", where, get.getPath())
        .contains(get.getPath());
    if (expectedPath != null) {
      assertThat(get.getPath()).as("%s path", where).isEqualTo(expectedPath);
    }
    assertThat(resolve(c, get.getPort())).as("%s port", where).isEqualTo(effectiveConfig(c).adminPort());
  }

  private void instancesMatchCpus(Deployment d, Container c) {
    String where = where(d, c);
    boolean explicit = literalEnv(c).containsKey(Setting.INSTANCES.envVar())
        || flags(c).containsKey(Setting.INSTANCES);
    assertThat(explicit).as("%s: set %s or %s explicitly (the default follows the JVM's CPU count)",
        where, Setting.INSTANCES.envVar(), Setting.INSTANCES.flag()).isTrue();
    BigDecimal cpu = quantity(c, "limits", "cpu");
    assertThat(isInteger(cpu)).as("%s: CPU limit %s must be whole CPUs", where, cpu).isTrue();
    int instances = effectiveConfig(c).instances();
    assertThat(instances).as("%s: instances vs CPU limit", where).isEqualTo(cpu.intValueExact());
    Matcher m = ACTIVE_PROCESSORS.matcher(String.join(" ", jvmOptions(c)));
    assertThat(m.find()).as("%s: JVM options need -XX:ActiveProcessorCount", where).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as("%s: -XX:ActiveProcessorCount vs instances", where)
        .isEqualTo(instances);
  }

  private void resources(Deployment d, Container c) {
    String where = where(d, c);
    for (String resource : List.of("cpu", "memory")) {
      BigDecimal request = quantity(c, "requests", resource);
      BigDecimal limit = quantity(c, "limits", resource);
      assertThat(request).as("%s: %s request must equal its limit", where, resource).isEqualByComparingTo(limit);
    }
    assertThat(isInteger(quantity(c, "requests", "cpu"))).as("%s: CPU request must be whole CPUs", where).isTrue();
    assertThat(String.join(" ", jvmOptions(c))).as("%s: JVM options must size the heap from the memory limit", where)
        .contains("-XX:MaxRAMPercentage=");
  }

  private void securityContext(Deployment d, Container c) {
    String where = where(d, c) + " securityContext";
    PodSecurityContext pod = Optional.ofNullable(d.getSpec().getTemplate().getSpec().getSecurityContext())
        .orElse(new PodSecurityContext());
    SecurityContext sc = c.getSecurityContext();
    assertThat(sc).as("%s is missing", where).isNotNull();
    Boolean nonRoot = sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : pod.getRunAsNonRoot();
    List<String> added = sc.getCapabilities() == null || sc.getCapabilities().getAdd() == null ? List.of()
        : sc.getCapabilities().getAdd();
    if (added.isEmpty() || !granted.containsAll(added)) {
      assertThat(nonRoot).as("%s.runAsNonRoot (container or pod)", where).isTrue();
    }
    String seccomp = sc.getSeccompProfile() != null ? sc.getSeccompProfile().getType()
        : pod.getSeccompProfile() != null ? pod.getSeccompProfile().getType() : null;
    assertThat(seccomp).as("%s.seccompProfile.type (container or pod)", where).isEqualTo("RuntimeDefault");
    assertThat(sc.getAllowPrivilegeEscalation()).as("%s.allowPrivilegeEscalation", where).isFalse();
    assertThat(sc.getPrivileged()).as("%s.privileged", where).isNotEqualTo(Boolean.TRUE);
    assertThat(sc.getReadOnlyRootFilesystem()).as("%s.readOnlyRootFilesystem", where).isTrue();
    assertThat(sc.getCapabilities()).as("%s.capabilities", where).isNotNull();
    assertThat(sc.getCapabilities().getDrop()).as("%s.capabilities.drop", where).contains("ALL");
    assertThat(added).as("%s.capabilities.add (allowed here: %s)", where, granted).isSubsetOf(granted);
  }

  private void tmpIsEmptyDir(Deployment d, Container c) {
    VolumeMount tmp = mountAt(c, "/tmp")
        .orElseThrow(() -> new AssertionError(where(d, c) + ": nothing mounted at /tmp (Netty's native library)"));
    assertThat(tmp.getReadOnly()).as("%s: /tmp must be writable", where(d, c)).isNotEqualTo(Boolean.TRUE);
    assertThat(volume(d, tmp.getName()).getEmptyDir()).as("%s: /tmp must be an emptyDir", where(d, c)).isNotNull();
  }

  private void nativeTransport(Deployment d, Container c) {
    ServerConfig config = effectiveConfig(c);
    assertThat(config.balancing()).as("%s: balancing", where(d, c)).isEqualTo(Balancing.REUSEPORT);
    assertThat(config.transport().resolved())
        .as("%s: transport (RuntimeDefault seccomp profiles block io_uring)", where(d, c))
        .isEqualTo(TransportKind.EPOLL);
  }

  private void gracePeriod(Deployment d) {
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    for (Container c : pod.getContainers()) {
      int preStop = preStopSleepSeconds(d, c);
      int drain = effectiveConfig(c).drainTimeoutSeconds();
      assertThat(pod.getTerminationGracePeriodSeconds())
          .as("%s: terminationGracePeriodSeconds must be >= preStop %d s + drainTimeoutSeconds %d s + %d s margin",
              where(d, c), preStop, drain, MIN_GRACE_MARGIN_SECONDS)
          .isNotNull()
          .isGreaterThanOrEqualTo((long) preStop + drain + MIN_GRACE_MARGIN_SECONDS);
    }
  }

  private void scrapeAnnotations(Deployment d) {
    Map<String, String> annotations = Optional.ofNullable(d.getSpec().getTemplate().getMetadata().getAnnotations())
        .orElse(Map.of());
    String where = describe(d) + " pod annotations";
    assertThat(annotations.get("prometheus.io/scrape")).as("%s: prometheus.io/scrape", where).isEqualTo("true");
    assertThat(annotations.get("prometheus.io/path")).as("%s: prometheus.io/path", where)
        .isEqualTo(AdminRoutes.METRICS).isIn(AdminRoutes.all());
    List<String> adminPorts = d.getSpec().getTemplate().getSpec().getContainers().stream()
        .map(c -> Integer.toString(effectiveConfig(c).adminPort())).collect(Collectors.toList());
    assertThat(annotations.get("prometheus.io/port")).as("%s: prometheus.io/port", where).isIn(adminPorts);
  }

  private void serviceLinksOff(Deployment d) {
    assertThat(d.getSpec().getTemplate().getSpec().getEnableServiceLinks())
        .as("%s: enableServiceLinks must be false (service links add <SERVICE>_PORT variables, and a Service"
            + " named 'reuseport' would set REUSEPORT_PORT)", describe(d))
        .isFalse();
  }

  private void servicePorts() {
    for (Service s : manifests.all(Service.class)) {
      Deployment d = selected(s.getSpec().getSelector(), describe(s));
      assertThat(s.getSpec().getType()).as("%s type", describe(s)).isIn(null, "ClusterIP");
      List<ContainerPort> declared = d.getSpec().getTemplate().getSpec().getContainers().stream()
          .flatMap(c -> c.getPorts().stream()).collect(Collectors.toList());
      for (ServicePort p : s.getSpec().getPorts()) {
        String where = describe(s) + " port " + p.getName();
        assertThat(p.getTargetPort()).as("%s: targetPort", where).isNotNull();
        String target = p.getTargetPort().getStrVal();
        assertThat(target).as("%s: targetPort must name a container port", where).isNotNull();
        ContainerPort cp = declared.stream().filter(x -> target.equals(x.getName())).findFirst()
            .orElseThrow(() -> new AssertionError(where + ": no container port named " + target));
        assertThat(protocol(p.getProtocol())).as("%s: protocol", where).isEqualTo(protocol(cp.getProtocol()));
      }
      for (ContainerPort cp : declared) {
        assertThat(s.getSpec().getPorts()).as("%s must expose container port %s", describe(s), cp.getName())
            .anyMatch(p -> cp.getName().equals(p.getTargetPort().getStrVal()));
      }
    }
  }

  private void disruptionBudgets() {
    for (PodDisruptionBudget pdb : manifests.all(PodDisruptionBudget.class)) {
      selected(pdb.getSpec().getSelector().getMatchLabels(), describe(pdb));
      assertThat(pdb.getSpec().getSelector().getMatchExpressions()).as("%s matchExpressions", describe(pdb))
          .isNullOrEmpty();
    }
  }

  private void autoscalers() {
    for (HorizontalPodAutoscaler hpa : manifests.all(HorizontalPodAutoscaler.class)) {
      CrossVersionObjectReference ref = hpa.getSpec().getScaleTargetRef();
      assertThat(ref.getKind()).as("%s target kind", describe(hpa)).isEqualTo("Deployment");
      assertThat(manifests.all(Deployment.class)).as("%s targets Deployment %s", describe(hpa), ref.getName())
          .anyMatch(d -> name(d).equals(ref.getName()));
    }
  }

  private void serviceMonitors() {
    for (ServiceMonitor sm : manifests.all(ServiceMonitor.class)) {
      LabelSelector selector = sm.getSpec().getSelector();
      List<Service> services = manifests.all(Service.class).stream()
          .filter(s -> matches(selector.getMatchLabels(), s.getMetadata().getLabels())).collect(Collectors.toList());
      assertThat(services).as("%s selects no Service", describe(sm)).isNotEmpty();
      assertThat(sm.getSpec().getEndpoints()).as("%s endpoints", describe(sm)).isNotEmpty();
      for (Endpoint e : sm.getSpec().getEndpoints()) {
        assertThat(e.getPath()).as("%s path", describe(sm)).isEqualTo(AdminRoutes.METRICS);
        for (Service s : services) {
          ServicePort p = s.getSpec().getPorts().stream().filter(x -> Objects.equals(x.getName(), e.getPort()))
              .findFirst().orElseThrow(() -> new AssertionError(
                  describe(sm) + ": " + describe(s) + " has no port named " + e.getPort()));
          Deployment d = selected(s.getSpec().getSelector(), describe(s));
          for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
            assertThat(p.getPort()).as("%s port %s vs adminPort", describe(sm), e.getPort())
                .isEqualTo(effectiveConfig(c).adminPort());
          }
        }
      }
    }
  }

  private void rulesPassPromtool() {
    List<PrometheusRule> rules = manifests.all(PrometheusRule.class);
    if (rules.isEmpty()) {
      return;
    }
    assumeTrue(Promtool.onPath(), "promtool is not on the PATH (Debian package prometheus): rules not checked");
    rules.forEach(r -> Promtool.checkRules(describe(r), r));
  }

  private void alertsAreComplete() {
    for (PrometheusRule r : manifests.all(PrometheusRule.class)) {
      assertThat(r.getSpec().getGroups()).as("%s groups", describe(r)).isNotEmpty();
      for (Rule alert : alerts(r)) {
        String where = describe(r) + " alert " + alert.getAlert();
        assertThat(alert.getFor()).as("%s: for (a single scrape must not page)", where).isNotBlank();
        assertThat(alert.getLabels()).as("%s labels", where).isNotNull();
        assertThat(alert.getLabels().get("severity")).as("%s: severity label", where).isIn(SEVERITIES);
        assertThat(alert.getAnnotations()).as("%s annotations", where).isNotNull()
            .containsKeys("summary", "description");
      }
    }
  }

  private void fairnessAlertsMatchConfig() {
    for (PrometheusRule r : manifests.all(PrometheusRule.class)) {
      List<Rule> fairness = alerts(r).stream().filter(a -> a.getAlert().contains(FAIRNESS_ALERT))
          .collect(Collectors.toList());
      assertThat(fairness).as("%s: alerts on fairness", describe(r)).isNotEmpty();
      for (Deployment d : manifests.all(Deployment.class)) {
        for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
          ServerConfig config = effectiveConfig(c);
          for (Rule alert : fairness) {
            String expr = alert.getExpr().getStrVal();
            assertThat(expr).as("%s alert %s vs fairnessWarnBelow of %s", describe(r), alert.getAlert(), where(d, c))
                .contains("< " + config.fairnessWarnBelow());
            assertThat(expr).as("%s alert %s vs fairnessMinSample of %s", describe(r), alert.getAlert(), where(d, c))
                .contains(">= " + config.fairnessMinSample());
          }
        }
      }
    }
  }

  // ---- helpers

  private static List<Rule> alerts(PrometheusRule r) {
    return r.getSpec().getGroups().stream().map(RuleGroup::getRules).flatMap(List::stream)
        .filter(rule -> rule.getAlert() != null).collect(Collectors.toList());
  }

  private void perContainer(List<DynamicTest> tests, String name, ContainerRule rule) {
    tests.add(test(name, () -> {
      for (Deployment d : manifests.all(Deployment.class)) {
        for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
          rule.check(d, c);
        }
      }
    }));
  }

  private void perDeployment(List<DynamicTest> tests, String name, Consumer<Deployment> rule) {
    tests.add(test(name, () -> manifests.all(Deployment.class).forEach(rule)));
  }

  private static DynamicTest test(String name, Executable check) {
    return DynamicTest.dynamicTest(name, check);
  }

  private Deployment selected(Map<String, String> selector, String selectorOwner) {
    assertThat(selector).as("%s: selector", selectorOwner).isNotEmpty();
    List<Deployment> hits = manifests.all(Deployment.class).stream()
        .filter(d -> matches(selector, d.getSpec().getTemplate().getMetadata().getLabels()))
        .collect(Collectors.toList());
    assertThat(hits).as("%s: selector %s must select exactly one Deployment's pods", selectorOwner, selector)
        .hasSize(1);
    return hits.get(0);
  }

  private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    return selector != null && !selector.isEmpty() && labels != null
        && labels.entrySet().containsAll(selector.entrySet());
  }

  private int preStopSleepSeconds(Deployment d, Container c) {
    LifecycleHandler preStop = c.getLifecycle() == null ? null : c.getLifecycle().getPreStop();
    assertThat(preStop).as("%s: lifecycle.preStop is missing", where(d, c)).isNotNull();
    if (preStop.getSleep() != null) {
      return preStop.getSleep().getSeconds().intValue();
    }
    assertThat(preStop.getExec()).as("%s: preStop must be a sleep or an exec of sleep", where(d, c)).isNotNull();
    Matcher m = PRESTOP_EXEC_SLEEP.matcher(String.join(" ", preStop.getExec().getCommand()));
    assertThat(m.find()).as("%s: preStop exec must sleep N", where(d, c)).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private static Optional<ContainerPort> port(Container c, int number, String protocol) {
    return Optional.ofNullable(c.getPorts()).orElse(List.of()).stream()
        .filter(p -> p.getContainerPort() == number && protocol(p.getProtocol()).equals(protocol))
        .findFirst();
  }

  private static String protocol(String protocol) {
    return protocol == null ? "TCP" : protocol;
  }

  private static int resolve(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
        .map(ContainerPort::getContainerPort)
        .orElseThrow(() -> new AssertionError(c.getName() + ": no container port named " + port.getStrVal()));
  }

  private static Optional<VolumeMount> mountAt(Container c, String path) {
    return Optional.ofNullable(c.getVolumeMounts()).orElse(List.of()).stream()
        .filter(m -> m.getMountPath().equals(path)).findFirst();
  }

  private static Volume volume(Deployment d, String name) {
    return d.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name))
        .findFirst().orElseThrow(() -> new AssertionError(name(d) + ": no volume named " + name));
  }

  private static BigDecimal quantity(Container c, String kind, String resource) {
    Map<String, Quantity> values = c.getResources() == null ? null
        : kind.equals("limits") ? c.getResources().getLimits() : c.getResources().getRequests();
    Quantity q = values == null ? null : values.get(resource);
    if (q == null) {
      fail(c.getName() + ": resources." + kind + "." + resource + " is missing");
    }
    return q.getNumericalAmount();
  }

  private static boolean isInteger(BigDecimal value) {
    return value.signum() > 0 && value.stripTrailingZeros().scale() <= 0;
  }

  private static List<EnvVar> env(Container c) {
    return Optional.ofNullable(c.getEnv()).orElse(List.of());
  }

  private static Map<String, String> literalEnv(Container c) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : env(c)) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      }
    }
    return env;
  }

  /** Setting flags from the container's args; fails on an argument the server would not accept. */
  private static Map<Setting, String> flags(Container c) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    List<String> args = Optional.ofNullable(c.getArgs()).orElse(List.of());
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      boolean inline = arg.contains("=");
      if (name.equals("--conf")) {
        i += inline ? 0 : 1;
        continue;
      }
      Setting setting = Stream.of(Setting.values()).filter(s -> s.flag().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError(c.getName() + ": argument '" + arg + "' is not a server flag"));
      if (!inline && i + 1 >= args.size()) {
        fail(c.getName() + ": flag " + name + " has no value");
      }
      flags.put(setting, inline ? arg.substring(arg.indexOf('=') + 1) : args.get(++i));
    }
    return flags;
  }

  private static List<String> jvmOptions(Container c) {
    List<String> options = new ArrayList<>(Optional.ofNullable(c.getCommand()).orElse(List.of()));
    Map<String, String> env = literalEnv(c);
    for (String variable : JVM_OPTION_VARIABLES) {
      if (env.containsKey(variable)) {
        options.addAll(List.of(env.get(variable).trim().split("\\s+")));
      }
    }
    return options;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String where(Deployment d, Container c) {
    return manifests.source() + ": Deployment " + name(d) + " container " + c.getName();
  }

  private String describe(HasMetadata o) {
    return manifests.source() + ": " + o.getKind() + " " + name(o);
  }

  private static String name(HasMetadata o) {
    return o.getMetadata().getName();
  }

  @FunctionalInterface
  private interface ContainerRule {
    void check(Deployment d, Container c);
  }
}
