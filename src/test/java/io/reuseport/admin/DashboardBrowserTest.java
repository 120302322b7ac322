package io.reuseport.admin;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AdminStats;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.reuseport.testsupport.VertxClients.Lines;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser: Debian's headless Chromium, driven through its chromedriver, against the real
 * server in this JVM. The page loads without console errors, shows one bar group per instance, and its numbers
 * follow the loopback traffic the test sends, over server-sent events and, when those fail, over polling. Skipped
 * where Chromium is not installed (CI installs it in {@code .ci/run}).
 *
 * <p>WebDriver blocks by nature, so the test methods run on the JUnit thread and wait with WebDriver's polling
 * waits for the page; the server starts and stops the vertx-junit5 way and the traffic comes from Vert.x clients.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
// vertx-junit5 bounds its test contexts by its own @Timeout only (30 s without); JUnit's bounds the rest
@io.vertx.junit5.Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class DashboardBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final int INSTANCES = 3;
  private static final int CONNECTIONS = 30;
  private static final int DATAGRAMS = 30;
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** Replaces EventSource with one that fails at once, as a proxy that drops the stream would make it. */
  private static final String BROKEN_EVENT_SOURCE = "window.EventSource = class {"
      + " constructor() { setTimeout(() => this.onerror && this.onerror(new Event('error')), 0); }"
      + " addEventListener() {} close() {} };";

  /** Replaces EventSource with one that never delivers, as a stream still being set up looks. */
  private static final String SILENT_EVENT_SOURCE = "window.EventSource = class { addEventListener() {} close() {} };";

  private RunningServer server;
  private Path profile;
  private ChromeDriverService driverService;
  private ChromeDriver browser;

  @BeforeEach
  void start(VertxTestContext test) throws IOException {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
    startBrowser();
    // the stall service echoes like echo does, and can block one loop for the steering test
    AsyncServers.start(new JsonObject().put("instances", INSTANCES).put("statsIntervalMs", 200)
        .put("service", "stall")).onComplete(test.succeeding(started -> {
          server = started;
          test.completeNow();
        }));
  }

  /** Blocks: on the JUnit thread, like every WebDriver call. */
  private void startBrowser() throws IOException {
    profile = Files.createTempDirectory("dashboard-chromium-");
    driverService = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    ChromeOptions options = new ChromeOptions()
        .setBinary(CHROMIUM.toFile())
        .addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
            "--user-data-dir=" + profile, "--window-size=1280,900");
    options.setCapability("goog:loggingPrefs", logs);
    browser = new ChromeDriver(driverService, options);
  }

  @AfterEach
  void stop(VertxTestContext test) throws IOException {
    if (browser != null) {
      browser.quit();
    }
    if (driverService != null) {
      driverService.stop();
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
          Files.deleteIfExists(p);
        }
      }
    }
    (server == null ? Future.<Void>succeededFuture() : server.stop()).onComplete(test.succeedingThenComplete());
  }

  @Test
  void showsEveryInstanceAndFollowsTrafficOverServerSentEvents(Vertx vertx) throws Exception {
    open();
    waitFor("a report over server-sent events", () -> "sse".equals(statusState()) && updates() > 0);
    assertThat(browser.findElement(By.id("instance-count")).getText()).isEqualTo(Integer.toString(INSTANCES));
    assertOneBarGroupPerInstance();
    long accepted = total("tcpAccepted");
    long datagrams = total("udpDatagramsIn");

    sendTraffic(vertx);

    waitFor("the page to count the connections and datagrams sent",
        () -> total("tcpAccepted") >= accepted + CONNECTIONS && total("udpDatagramsIn") >= datagrams + DATAGRAMS);
    assertThat(sumOfBars("tcpAccepted")).isEqualTo(total("tcpAccepted"));
    assertThat(sumOfBars("udpDatagramsIn")).isEqualTo(total("udpDatagramsIn"));
    assertThat(jain("tcpAccepted", "start")).matches("[01]\\.\\d{3}");
    assertThat(jain("udpDatagramsIn", "start")).matches("[01]\\.\\d{3}");
    assertNoErrors();
  }

  @Test
  void fallsBackToPollingWhenServerSentEventsFail(Vertx vertx) throws Exception {
    browser.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", BROKEN_EVENT_SOURCE));
    open();
    waitFor("a report from polling /stats", () -> "poll".equals(statusState()) && updates() > 0);
    assertOneBarGroupPerInstance();
    long accepted = total("tcpAccepted");

    sendTraffic(vertx);

    waitFor("the page to count the connections sent", () -> total("tcpAccepted") >= accepted + CONNECTIONS);
    assertThat(statusState()).isEqualTo("poll");
    assertNoErrors();
  }

  @Test
  void showsTheSteeringModeAndMarksAnInstanceSteeredAroundWhileItStalls(Vertx vertx) throws Exception {
    open();
    waitFor("a first report", () -> updates() > 0);
    String selector = browser.findElement(By.cssSelector("[data-field='steering']")).getDomAttribute(
        "data-selector");
    assertThat(selector).isEqualTo(server.steering().active() ? "bpf" : "kernel");
    assumeTrue(server.steering().active(), "the steered-around mark needs the BPF selector (root, CAP_BPF)");
    // kept in a variable and closed: Vert.x 5 closes a client nothing refers to when the GC runs, connections and all
    NetClient client = vertx.createNetClient();
    NetSocket stalled = await(client.connect(server.port(), VertxClients.LOOPBACK));
    try {
      Lines lines = Lines.of(stalled);
      String id = await(stalled.write(Buffer.buffer("id\n")).compose(v -> lines.next())).trim();
      await(stalled.write(Buffer.buffer("stall 2500\n")));
      By row = By.cssSelector(".instance-bar[data-instance='" + id + "']");
      waitFor("instance " + id + " marked steered around",
          () -> "true".equals(browser.findElement(row).getDomAttribute("data-steered")));
      assertThat(browser.findElement(row).findElement(By.cssSelector(".badge.steered")).getText())
          .startsWith("steered around since");
      assertThat(await(lines.next())).isEqualTo("stalled");
      waitFor("instance " + id + " back in the table",
          () -> "false".equals(browser.findElement(row).getDomAttribute("data-steered")));
    } finally {
      await(stalled.close().eventually(client::close));
    }
    assertNoErrors();
  }

  @Test
  void showsEachInstancesShareOfNewConnectionsAndWhy(Vertx vertx) throws Exception {
    assumeTrue(server.steering().active(), "the share and its reason need the BPF selector (root, CAP_BPF)");
    open();
    waitFor("a first report", () -> updates() > 0);
    HttpClient http = vertx.createHttpClient();
    JsonArray instances;
    try {
      instances = await(AdminStats.fresh(http, server.adminPort())).getJsonArray("instances");
    } finally {
      await(http.close());
    }
    // at rest: every loop idle, so each instance gets its even share of the selector's table
    for (int id = 0; id < INSTANCES; id++) {
      JsonObject steering = instances.getJsonObject(id).getJsonObject("steering");
      String expected = "share " + Math.round(100 * steering.getDouble("tableShare")) + " % · even";
      By share = By.cssSelector(".instance-bar[data-instance='" + id + "'] .share");
      waitFor("instance " + id + " showing '" + expected + "'",
          () -> browser.findElement(share).getText().startsWith(expected));
      assertThat(browser.findElement(share).getDomAttribute("data-reason")).isEqualTo("even");
    }
    NetClient client = vertx.createNetClient();
    NetSocket stalled = await(client.connect(server.port(), VertxClients.LOOPBACK));
    try {
      Lines lines = Lines.of(stalled);
      String id = await(stalled.write(Buffer.buffer("id\n")).compose(v -> lines.next())).trim();
      await(stalled.write(Buffer.buffer("stall 2500\n")));
      By share = By.cssSelector(".instance-bar[data-instance='" + id + "'] .share");
      waitFor("instance " + id + " showing no share, stalled",
          () -> browser.findElement(share).getText().startsWith("share 0.0 % · stalled"));
      assertThat(browser.findElement(share).getDomAttribute("data-reason")).isEqualTo("stalled");
      assertThat(await(lines.next())).isEqualTo("stalled");
    } finally {
      await(stalled.close().eventually(client::close));
    }
    assertNoErrors();
  }

  @Test
  void showsTheFirstStatsAtOnceWithoutWaitingForTheEventStream() {
    browser.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", SILENT_EVENT_SOURCE));
    open();
    waitFor("the first /stats on the page", () -> updates() > 0);
    assertThat(statusState()).isEqualTo("loaded");
    assertThat(browser.findElement(By.id("status")).getText()).doesNotContain("connecting");
    assertThat(browser.findElement(By.id("source")).getText()).isNotEqualTo("–");
    assertOneBarGroupPerInstance();
    assertNoErrors();
  }

  @Test
  void reopenedPageKeepsTheServersFiveMinuteHistory(Vertx vertx) throws Exception {
    sendTraffic(vertx);
    open();
    waitFor("a few reports", () -> updates() >= 5);
    browser.navigate().refresh();
    waitFor("the first report after reopening", () -> updates() > 0);
    @SuppressWarnings("unchecked")
    List<Object> seen = (List<Object>) browser.executeScript("return [Number(document.body.dataset.updates),"
        + " document.querySelector('[data-sparkline=\"tcpAccepted\"] path.start').getAttribute('d')];");
    long updates = ((Number) seen.get(0)).longValue();
    long points = ((String) seen.get(1)).chars().filter(c -> c == 'M' || c == 'L').count();
    // the page adds one point per report it rendered; the rest came from the server with the first report
    assertThat(points).as("sparkline points after %d reports", updates).isGreaterThan(updates);
    assertNoErrors();
  }

  @Test
  void showsRejectedConnectionsInTheProblemsTable(Vertx vertx) throws Exception {
    RunningServer stopping = server;
    // stopped here: not again after the test, whatever happens next
    server = null;
    server = await(stopping.stop().compose(v -> AsyncServers.start(new JsonObject().put("instances", INSTANCES)
        .put("statsIntervalMs", 200).put("maxConnectionsPerInstance", 1))));
    open();
    waitFor("a report over server-sent events", () -> "sse".equals(statusState()) && updates() > 0);
    assertThat(browser.findElements(By.cssSelector("#problems tbody tr"))).hasSize(INSTANCES + 1);
    List<NetSocket> held = new ArrayList<>();
    NetClient client = vertx.createNetClient();
    try {
      for (int i = 0; i < 10; i++) {
        held.add(await(client.connect(server.port(), VertxClients.LOOPBACK)));
      }
      // 3 instances with room for one connection each: at least 7 of the 10 are rejected
      waitFor("the rejections on the page", () -> problemTotal("tcpRejected") >= 7);
    } finally {
      for (NetSocket s : held) {
        await(s.close());
      }
    }
    WebElement total = browser.findElement(By.cssSelector("#problems tr.total [data-problem='tcpRejected']"));
    assertThat(total.getDomAttribute("class")).contains("bad");
    assertThat(browser.findElement(By.id("problems-summary")).getText()).containsIgnoringCase("since start");
    await(AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 0));
    // a client that closes with a reset, as a load balancer's health check does: shown, but not as a fault
    NetClient resetting = vertx.createNetClient(new NetClientOptions().setSoLinger(0));
    try {
      await(resetting.connect(server.port(), VertxClients.LOOPBACK)
          .compose(socket -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().active(), 1)
              .compose(v -> socket.close())));
      waitFor("the reset on the page", () -> problemTotal("tcpResets") == 1);
    } finally {
      await(resetting.close());
    }
    WebElement resets = browser.findElement(By.cssSelector("#problems tr.total [data-problem='tcpResets']"));
    assertThat(Objects.toString(resets.getDomAttribute("class"), "")).as("a peer's reset is not shown as a fault")
        .doesNotContain("bad");
    assertThat(problemTotal("tcpErrors")).isZero();
    assertNoErrors();
  }

  @Test
  void showsRequestsAndTheirP99PerInstanceForAnHttpService(Vertx vertx) throws Exception {
    RunningServer stopping = server;
    server = null;
    server = await(stopping.stop().compose(v -> AsyncServers.start(new JsonObject().put("instances", INSTANCES)
        .put("statsIntervalMs", 200).put("service", "hello-http"))));
    open();
    waitFor("a first report", () -> updates() > 0);
    WebClient web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    try {
      for (int i = 0; i < CONNECTIONS; i++) {
        await(web.get(server.port(), VertxClients.LOOPBACK, "/plaintext").send());
      }
    } finally {
      web.close();
    }
    waitFor("the page to count the requests sent", () -> total("httpRequests") >= CONNECTIONS);
    for (int id = 0; id < INSTANCES; id++) {
      assertThat(browser.findElements(By.cssSelector(".instance-bar[data-instance='" + id + "'] .metric")))
          .as("bars of instance %s", id)
          .extracting(e -> e.getDomAttribute("data-metric"))
          .containsExactly("tcpAccepted", "tcpActive", "httpRequests", "httpP99", "bytesIn");
    }
    assertThat(sumOfBars("httpRequests")).isEqualTo(total("httpRequests"));
    assertThat(browser.findElement(By.cssSelector("[data-total='httpP99']")).getText()).startsWith("worst ")
        .endsWith(" ms");
    // fairness over requests, not over the datagrams an HTTP service never receives
    assertThat(browser.findElement(By.cssSelector("[data-fairness='httpRequests'] h2")).getDomProperty("textContent"))
        .isEqualTo("Jain's index · HTTP requests");
    waitFor("Jain's index over the requests since start",
        () -> !browser.findElement(By.cssSelector("[data-jain='httpRequests'][data-window='start']"))
            .getDomAttribute("data-value").isEmpty());
    assertThat(browser.findElements(By.cssSelector("[data-fairness='udpDatagramsIn']"))).isEmpty();
    assertThat(browser.findElements(By.cssSelector(".instance-bar .badge")))
        .extracting(WebElement::getText).noneMatch(text -> text.contains("UDP"));
    assertNoErrors();
  }

  private long problemTotal(String problem) {
    String value = browser.findElement(By.cssSelector("#problems tr.total [data-problem='" + problem + "']"))
        .getDomAttribute("data-value");
    return value == null ? 0 : Long.parseLong(value);
  }

  private void open() {
    browser.get("http://127.0.0.1:" + server.adminPort() + AdminRoutes.DASHBOARD);
  }

  private void assertOneBarGroupPerInstance() {
    List<String> ids = browser.findElements(By.cssSelector("#instances .instance-bar")).stream()
        .map(e -> e.getDomAttribute("data-instance"))
        .collect(Collectors.toList());
    assertThat(ids).containsExactly("0", "1", "2");
    for (String id : ids) {
      assertThat(browser.findElements(By.cssSelector(".instance-bar[data-instance='" + id + "'] .metric")))
          .as("bars of instance %s", id)
          .extracting(e -> e.getDomAttribute("data-metric"))
          .containsExactly("tcpAccepted", "tcpActive", "udpDatagramsIn", "bytesIn");
    }
  }

  /**
   * Fresh connections (new source ports, so the kernel spreads them) that each send a line, and datagrams from
   * fresh sockets; each one echoed, so the server has counted it when this returns.
   */
  private void sendTraffic(Vertx vertx) throws Exception {
    Buffer line = Buffer.buffer("hello dashboard\n");
    NetClient client = vertx.createNetClient();
    Future<Void> sent = Future.succeededFuture();
    for (int i = 0; i < CONNECTIONS; i++) {
      sent = sent.compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
          .compose(socket -> VertxClients.exchange(socket, line, line.length()).compose(echoed -> socket.close()));
    }
    for (int i = 0; i < DATAGRAMS; i++) {
      sent = sent.compose(v -> VertxClients.Udp.open(vertx))
          .compose(udp -> udp.request(server.port(), line).compose(echoed -> udp.close()));
    }
    await(sent);
  }

  /** Waits on the JUnit thread, as WebDriver does. */
  private static <T> T await(Future<T> future) throws TimeoutException {
    return future.await(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private void assertNoErrors() {
    List<LogEntry> severe = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
        .collect(Collectors.toList());
    assertThat(severe).as("console errors").isEmpty();
    WebElement banner = browser.findElement(By.id("error-banner"));
    assertThat(banner.isDisplayed()).as("error banner: %s", banner.getText()).isFalse();
  }

  private void waitFor(String what, BooleanSupplier condition) {
    new WebDriverWait(browser, WAIT).withMessage(what).until(d -> condition.getAsBoolean());
  }

  private String statusState() {
    return browser.findElement(By.id("status")).getDomAttribute("data-state");
  }

  /** How many reports the page has rendered. */
  private long updates() {
    return Long.parseLong(browser.findElement(By.tagName("body")).getDomAttribute("data-updates"));
  }

  private long total(String metric) {
    String value = browser.findElement(By.cssSelector("[data-total='" + metric + "']")).getDomAttribute("data-value");
    return value == null ? 0 : Long.parseLong(value);
  }

  private long sumOfBars(String metric) {
    return browser.findElements(By.cssSelector(".value[data-metric='" + metric + "']")).stream()
        .mapToLong(e -> Long.parseLong(e.getDomAttribute("data-value")))
        .sum();
  }

  private String jain(String kind, String window) {
    return browser.findElement(By.cssSelector("[data-jain='" + kind + "'][data-window='" + window + "']")).getText();
  }
}
