package io.reuseport.http;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: the clients are separate processes (Debian's curl, wrk and h2load), run to completion.
/**
 * The usual command-line clients work against {@code hello-http}: curl over HTTP/1.1, h2c with prior knowledge,
 * {@code Upgrade: h2c} and TLS with ALPN h2; wrk (keep-alive and {@code Connection: close}) and h2load without an
 * error or a non-2xx answer. Each load is bounded in requests or in time. Skipped where a tool is missing.
 */
@Timeout(120)
class HttpToolsTest {

  private RunningServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop().await();
    }
  }

  @Test
  void curlSpeaksHttp11H2cBothWaysAndH2OverTls(@TempDir Path dir) throws Exception {
    assumeTool("curl");
    Path[] pem = ChannelHttpServerTest.selfSigned(dir);
    server = Servers.start(new JsonObject().put("service", "hello-http"));
    String url = "http://127.0.0.1:" + server.port() + "/plaintext";
    assertThat(run("curl", "-sS", "-w", " %{http_version}", url)).isEqualTo("Hello, World! 1.1");
    assertThat(run("curl", "-sS", "--http2-prior-knowledge", "-w", " %{http_version}", url))
        .isEqualTo("Hello, World! 2");
    assertThat(run("curl", "-sS", "--http2", "-w", " %{http_version}", url)).isEqualTo("Hello, World! 2");
    server.stop().await();
    server = Servers.start(new JsonObject().put("service", "hello-http")
        .put("tlsCertPath", pem[0].toString()).put("tlsKeyPath", pem[1].toString()));
    String https = "https://127.0.0.1:" + server.port() + "/json";
    assertThat(run("curl", "-sS", "-k", "--http2", "-w", " %{http_version}", https))
        .isEqualTo("{\"message\":\"Hello, World!\"} 2");
    assertThat(run("curl", "-sS", "-k", "--http1.1", "-w", " %{http_version}", https))
        .isEqualTo("{\"message\":\"Hello, World!\"} 1.1");
  }

  @Test
  void wrkKeepAliveAndConnectionCloseGetNoErrorAndOnly2xx() throws Exception {
    assumeTool("wrk");
    server = Servers.start(new JsonObject().put("service", "hello-http"));
    String url = "http://127.0.0.1:" + server.port() + "/plaintext";
    for (List<String> extra : List.of(List.<String>of(), List.of("-H", "Connection: close"))) {
      List<String> command = new ArrayList<>(List.of("wrk", "-t1", "-c16", "-d1s"));
      command.addAll(extra);
      command.add(url);
      String report = run(command.toArray(String[]::new));
      assertThat(report).as(String.join(" ", command)).contains("requests in")
          .doesNotContain("Socket errors").doesNotContain("Non-2xx");
    }
  }

  @Test
  void h2loadGetsEveryRequestAnswered() throws Exception {
    assumeTool("h2load");
    server = Servers.start(new JsonObject().put("service", "hello-http"));
    String report = run("h2load", "-n", "2000", "-c", "8", "-m", "10",
        "http://127.0.0.1:" + server.port() + "/plaintext");
    assertThat(report).contains("2000 succeeded, 0 failed, 0 errored").contains("status codes: 2000 2xx");
  }

  private static void assumeTool(String name) {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", name)), "skipped: " + name + " not installed");
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
