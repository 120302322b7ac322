package io.reuseport.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.fabric8.openshift.api.model.monitoring.v1.RuleGroup;
import io.reuseport.admin.AdminRoutes;
import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The alerting rules and the Grafana dashboard of the prod overlay ask only for metrics the server really exports:
 * a server started in this JVM is scraped on {@code /metrics}, and every {@code reuseport_*} name in a rule
 * expression or a dashboard query must be among its samples. Every alert fires on its condition and stays quiet
 * beside it (promtool), and links a section of docs/RUNBOOK.md that exists.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
// vertx-junit5 bounds its test contexts by its own @Timeout only (30 s without); JUnit's bounds the rest
@io.vertx.junit5.Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class OperationsKitTest {

  /**
   * Names the team agreed on that other branches add and this one does not export yet. Each must be absent
   * from /metrics here: once a merge brings it, the test fails until the name is taken off this list.
   */
  private static final Set<String> PENDING_ON_OTHER_BRANCHES = Set.of();

  /** promtool unit tests of the alerts: series in, alerts (labels and rendered annotations) out. */
  private static final Path ALERT_CASES = Path.of("src", "test", "resources", "prometheus", "alerts-test.yaml");
  /** What each alert's runbook_url starts with: docs/RUNBOOK.md of this repository, then a section's anchor. */
  private static final String RUNBOOK_URL =
      "https://github.com/reuseport/reuseport-server/blob/main/docs/RUNBOOK.md#";
  private static final Path RUNBOOK = Path.of("docs", "RUNBOOK.md");
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Pattern METRIC_NAME = Pattern.compile("\\breuseport_[a-zA-Z0-9_]+");
  private static final Pattern SAMPLE_NAME = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

  @Test
  void rulesAndDashboardAskOnlyForExportedMetrics(Vertx vertx, VertxTestContext test) throws IOException {
    Set<String> wanted = new TreeSet<>(namesIn(ruleExpressions()));
    wanted.addAll(namesIn(panelQueries()));
    wanted.addAll(namesIn(variableQueries()));
    HttpClient client = vertx.createHttpClient();
    ReusePortServer.start(ConfigLoader.fromJson(new JsonObject().put("host", "127.0.0.1").put("port", 0)
            .put("adminHost", "127.0.0.1").put("adminPort", 0).put("instances", 2)))
        .compose(server -> scrape(client, server).eventually(server::stop))
        .onComplete(test.succeeding(metrics -> test.verify(() -> {
          Set<String> exported = exportedNames(metrics);
          assertThat(exported).as("/metrics of a running server").isNotEmpty();
          assertThat(PENDING_ON_OTHER_BRANCHES).as("pending names now exported: take them off the pending list")
              .doesNotContainAnyElementsOf(exported);
          Set<String> unknown = new TreeSet<>(wanted);
          unknown.removeAll(exported);
          unknown.removeAll(PENDING_ON_OTHER_BRANCHES);
          assertThat(unknown).as("metric names in %s or %s that the server does not export",
              ManifestsTest.PROMETHEUS_RULE, ManifestsTest.GRAFANA_DASHBOARD).isEmpty();
          test.completeNow();
        })));
  }

  @Test
  void eachAlertFiresOnItsConditionAndNotBesideIt(@TempDir Path dir) throws IOException {
    assumeTrue(Promtool.onPath(), "promtool is not on the PATH (Debian package prometheus): alerts not tested");
    PrometheusRule rule = prometheusRule();
    Promtool.testRules(ManifestsTest.PROMETHEUS_RULE.toString(), rule, ALERT_CASES, dir, "reuseport-rules.yaml");
  }

  /**
   * Every alert tells the on-call engineer what happened and where to read on, in the kube-prometheus style: a
   * {@code summary}, a {@code description} naming the pod, a {@code runbook_url} to a section of docs/RUNBOOK.md
   * that exists, and a {@code severity} that matches the harm.
   */
  @Test
  void everyAlertHasAnnotationsAndARunbookSectionThatExists() throws IOException {
    Set<String> sections = runbookAnchors();
    List<Rule> alerts = alerts();
    assertThat(alerts).isNotEmpty();
    for (Rule alert : alerts) {
      String name = alert.getAlert();
      Map<String, String> annotations = alert.getAnnotations();
      assertThat(annotations).as("%s annotations", name).containsOnlyKeys("summary", "description", "runbook_url");
      assertThat(annotations.get("summary")).as("%s summary", name).isNotBlank().doesNotContain("{{");
      assertThat(annotations.get("description")).as("%s description", name).contains("{{ $labels.pod }}");
      String url = annotations.get("runbook_url");
      assertThat(url).as("%s runbook_url", name).startsWith(RUNBOOK_URL);
      assertThat(sections).as("sections of %s, for %s", RUNBOOK, url).contains(url.substring(RUNBOOK_URL.length()));
      assertThat(alert.getLabels()).as("%s labels", name).containsKey("severity");
      assertThat(alert.getLabels().get("severity")).as("%s severity", name).isIn("warning", "critical");
    }
    assertThat(severity(alerts, "ReuseportSteeringFallenBack")).as("a fallen-back selector").isEqualTo("warning");
    assertThat(severity(alerts, "ReuseportNotReady")).as("a server that is not ready").isEqualTo("critical");
  }

  /** The promtool cases show every alert both firing and quiet, so a rule that always or never fires fails. */
  @Test
  void everyAlertIsTestedFiringAndQuiet() throws IOException {
    Set<String> firing = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    JsonNode cases = YAML.readTree(ALERT_CASES.toFile());
    for (JsonNode test : cases.get("tests")) {
      for (JsonNode check : test.path("alert_rule_test")) {
        String name = check.get("alertname").asText();
        (check.path("exp_alerts").isEmpty() ? quiet : firing).add(name);
      }
    }
    Set<String> names = alerts().stream().map(Rule::getAlert).collect(Collectors.toCollection(TreeSet::new));
    assertThat(firing).as("alerts with a firing case in %s", ALERT_CASES).containsAll(names);
    assertThat(quiet).as("alerts with a quiet case in %s", ALERT_CASES).containsAll(names);
  }

  @Test
  void dashboardQueriesAreValidPromql() throws IOException {
    List<String> queries = panelQueries();
    assertThat(queries).as("queries in %s", ManifestsTest.GRAFANA_DASHBOARD).isNotEmpty();
    assumeTrue(Promtool.onPath(), "promtool is not on the PATH (Debian package prometheus): queries not parsed");
    // Grafana's variables, replaced by what Grafana would put there
    List<String> promql = queries.stream().map(q -> q.replace("$__rate_interval", "1m")
        .replace("$namespace", "default").replace("$pod", ".*")).collect(Collectors.toList());
    Promtool.checkQueries(ManifestsTest.GRAFANA_DASHBOARD.toString(), promql);
  }

  @Test
  void everyDashboardPanelQueriesThePrometheusVariable() throws IOException {
    for (Object p : dashboard().getJsonArray("panels")) {
      JsonObject panel = (JsonObject) p;
      if (panel.getString("type").equals("row")) {
        continue;
      }
      String title = panel.getString("title");
      assertThat(panel.getJsonObject("datasource").getString("uid")).as("panel %s datasource", title)
          .isEqualTo("${datasource}");
      assertThat(panel.getJsonArray("targets", new JsonArray())).as("panel %s targets", title).isNotEmpty();
    }
  }

  private static Future<String> scrape(HttpClient client, RunningServer server) {
    return client.request(HttpMethod.GET, server.adminPort(), "127.0.0.1", AdminRoutes.METRICS)
        .compose(request -> request.send())
        .compose(response -> response.statusCode() == 200 ? response.body()
            : Future.failedFuture(AdminRoutes.METRICS + " answered " + response.statusCode()))
        .map(body -> body.toString(StandardCharsets.UTF_8));
  }

  private static Set<String> exportedNames(String metrics) {
    return metrics.lines().filter(l -> !l.startsWith("#")).map(SAMPLE_NAME::matcher).filter(Matcher::find)
        .map(m -> m.group(1)).collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> namesIn(List<String> expressions) {
    Set<String> names = new TreeSet<>();
    for (String e : expressions) {
      Matcher m = METRIC_NAME.matcher(e);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  private static List<Rule> alerts() {
    return prometheusRule().getSpec().getGroups().stream().map(RuleGroup::getRules).flatMap(List::stream)
        .filter(r -> r.getAlert() != null).collect(Collectors.toList());
  }

  private static String severity(List<Rule> alerts, String name) {
    return alerts.stream().filter(a -> a.getAlert().equals(name)).findFirst()
        .map(a -> a.getLabels().get("severity")).orElseThrow(() -> new AssertionError("no alert " + name));
  }

  /** The anchors GitHub gives the headings of docs/RUNBOOK.md: lower case, punctuation dropped, spaces to '-'. */
  private static Set<String> runbookAnchors() throws IOException {
    return Files.readAllLines(RUNBOOK, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("#"))
        .map(l -> l.replaceFirst("^#+\\s*", "").strip().toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static List<String> ruleExpressions() {
    return prometheusRule().getSpec().getGroups().stream().map(RuleGroup::getRules).flatMap(List::stream)
        .map(r -> r.getExpr().getStrVal()).collect(Collectors.toList());
  }

  private static List<String> panelQueries() throws IOException {
    List<String> queries = new ArrayList<>();
    for (Object p : dashboard().getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets", new JsonArray())) {
        queries.add(((JsonObject) t).getString("expr"));
      }
    }
    return queries;
  }

  /** The templating variables' queries: Grafana's label_values(...), not PromQL. */
  private static List<String> variableQueries() throws IOException {
    List<String> queries = new ArrayList<>();
    for (Object v : dashboard().getJsonObject("templating").getJsonArray("list")) {
      JsonObject variable = (JsonObject) v;
      if (variable.getString("type").equals("query")) {
        queries.add(variable.getString("definition"));
      }
    }
    return queries;
  }

  private static PrometheusRule prometheusRule() {
    return Manifests.readFiles(ManifestsTest.PROMETHEUS_RULE.toString(), List.of(ManifestsTest.PROMETHEUS_RULE))
        .one(PrometheusRule.class);
  }

  private static JsonObject dashboard() throws IOException {
    return new JsonObject(Files.readString(ManifestsTest.GRAFANA_DASHBOARD, StandardCharsets.UTF_8));
  }
}
