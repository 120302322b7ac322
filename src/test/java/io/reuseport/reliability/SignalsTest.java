package io.reuseport.reliability;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * Signals as an operator sends them, to a real server process: a second SIGTERM or SIGINT during a drain stops at
 * once (128 + the signal's number), SIGHUP is logged and ignored, SIGTERM during start-up keeps readiness down.
 * The test blocks on the child's output and exit code.
 */
@Timeout(110)
class SignalsTest {

  private static final Pattern ADMIN = Pattern.compile("admin server on http://[^:]+:(\\d+)/");

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0} twice")
  @CsvSource({"TERM, 143", "INT, 130"})
  void aSecondSignalDuringTheDrainStopsAtOnce(String signal, int exitCode) throws Exception {
    try (ChildServer child = start("--drain-timeout-seconds", "300")) {
      int port = child.awaitReadyPort(60);
      try (Socket held = Clients.connect(port)) {
        held.getOutputStream().write(1);
        assertThat(held.getInputStream().read()).isEqualTo(1);
        child.signal(signal);
        child.awaitLine("draining for up to 300 s", 30);
        child.signal(signal);
        assertThat(child.awaitExit(30)).as("output %s", child.output()).isEqualTo(exitCode);
        assertThat(child.output()).anyMatch(l -> l.contains("received during the drain: stopping now"));
        assertThat(readOrReset(held)).as("the held connection is closed").isEqualTo(-1);
      }
    }
  }

  @Test
  void sighupIsLoggedAndIgnored() throws Exception {
    // SIGHUP's default disposition in the child, however the suite was started (under nohup it inherits SIG_IGN)
    try (ChildServer child = startUnder(List.of("env", "--default-signal=HUP"))) {
      int port = child.awaitReadyPort(60);
      child.signal("HUP");
      child.awaitLine("SIGHUP received: ignored", 30);
      assertThat(Echo.tcp(port)).isTrue();
      assertThat(child.isAlive()).isTrue();
      child.terminate();
      assertThat(child.awaitExit(60)).isZero();
      assertThat(child.output()).noneMatch(l -> l.contains("SIGHUP is ignored, as inherited"));
    }
  }

  /** As under {@code nohup}: the JVM keeps an inherited SIG_IGN, so the server says at start that it will. */
  @Test
  void sighupInheritedAsIgnoredIsSaidAtStart() throws Exception {
    try (ChildServer child = startUnder(List.of("env", "--ignore-signal=HUP"))) {
      int port = child.awaitReadyPort(60);
      assertThat(child.output()).anyMatch(l -> l.contains("SIGHUP is ignored, as inherited from the parent"));
      child.signal("HUP");
      assertThat(Echo.tcp(port)).isTrue();
      assertThat(child.isAlive()).isTrue();
      child.terminate();
      assertThat(child.awaitExit(60)).isZero();
      assertThat(child.output()).noneMatch(l -> l.contains("SIGHUP received"));
    }
  }

  @Test
  void sigtermDuringStartUpKeepsReadinessDown() throws Exception {
    // the instances wait 4 s for the service (the admin server answers meanwhile); the signal comes in between
    try (ChildServer child = ChildServer.start(dir, Map.of(), java.util.List.of("-Dgated.openAfterMs=4000"),
        "--host", "127.0.0.1", "--port", "0", "--admin-host", "127.0.0.1", "--admin-port", "0", "--service",
        "gated")) {
      String line = child.awaitLine("admin server on", 60);
      Matcher m = ADMIN.matcher(line);
      assertThat(m.find()).isTrue();
      int adminPort = Integer.parseInt(m.group(1));
      child.terminate();
      int answers = 0;
      while (child.isAlive()) {
        try {
          int status = Admin.get(adminPort, "/health/ready").statusCode();
          assertThat(status).as("readiness after SIGTERM during start-up").isEqualTo(503);
          answers++;
        } catch (IOException e) {
          break;  // the admin server closed: the process is stopping
        }
      }
      assertThat(child.awaitExit(60)).as("output %s", child.output()).isZero();
      assertThat(child.output()).noneMatch(l -> l.contains("ready: "))
          .anyMatch(l -> l.contains("a stop was asked for: not ready"));
      System.out.println("readiness answered 503 " + answers + " times after SIGTERM during start-up");
    }
  }

  private ChildServer start(String... more) throws Exception {
    return startUnder(List.of(), more);
  }

  private ChildServer startUnder(List<String> wrapper, String... more) throws Exception {
    String[] base = {"--host", "127.0.0.1", "--port", "0", "--admin-host", "127.0.0.1", "--admin-port", "0"};
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return ChildServer.startUnder(wrapper, dir, Map.of(), List.of(), args);
  }

  private static int readOrReset(Socket socket) {
    try {
      return socket.getInputStream().read();
    } catch (IOException e) {
      return -1;
    }
  }
}
