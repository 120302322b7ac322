package io.reuseport.reliability;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: the kernel's same-UID rule needs processes of other users; the test waits on them.
/**
 * The kernel's same-UID rule for {@code SO_REUSEPORT}: a process of another user cannot join the port
 * ({@code EADDRINUSE}); a process of the same user joins silently, and the server reports it as a foreign member of
 * the group. Root only (the other user is uid 65534); the joiners are small Python processes.
 */
@Timeout(60)
class PortHijackTest {

  private static final String PYTHON = "/usr/bin/python3";

  @BeforeEach
  void rootOnly() throws Exception {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: needs root to run a process as another user (setpriv --reuid=65534)");
    Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "skipped: needs " + PYTHON + " for the joiner");
  }

  @Test
  void anotherUserCannotBindThePort() throws Exception {
    RunningServer server = Servers.start(new JsonObject());
    try {
      List<String> out = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PYTHON, "-c",
          joiner(server.port(), false)));
      assertThat(out).as("uid 65534 binding port %d", server.port()).contains("EADDRINUSE");
    } finally {
      server.stop().await();
    }
  }

  @Test
  void aProcessOfTheSameUserThatJoinsIsReportedAsForeign() throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("statsIntervalMs", 200));
    Process joiner = new ProcessBuilder(PYTHON, "-c", joiner(server.port(), true)).redirectErrorStream(true).start();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(joiner.getInputStream(),
        StandardCharsets.UTF_8))) {
      assertThat(in.readLine()).isEqualTo("JOINED");
      // the group is read once per stats interval
      JsonObject group = Admin.freshStats(server.adminPort()).getJsonObject("group");
      while (group.getInteger("foreignTcp") == 0) {
        // poll pause: a joiner raises no event, the kernel's group is read from /proc/net; the loop ends on it
        Thread.sleep(50);
        group = Admin.freshStats(server.adminPort()).getJsonObject("group");
      }
      assertThat(group.getInteger("foreignTcp")).isEqualTo(1);
      assertThat(group.getInteger("ourTcp")).isEqualTo(2);
    } finally {
      try (OutputStream stop = joiner.getOutputStream()) {
        stop.write('\n');
      }
      joiner.waitFor(10, TimeUnit.SECONDS);
      joiner.destroyForcibly();
      server.stop().await();
    }
  }

  /** A Python process that binds a listener with SO_REUSEPORT on the port; prints JOINED or the errno name. */
  private static String joiner(int port, boolean stay) {
    return "import socket, errno, sys\n"
        + "s = socket.socket()\n"
        + "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
        + "try:\n"
        + "    s.bind(('127.0.0.1', " + port + "))\n"
        + "    s.listen(8)\n"
        + "    print('JOINED', flush=True)\n"
        + (stay ? "    sys.stdin.readline()\n" : "")
        + "except OSError as e:\n"
        + "    print(errno.errorcode[e.errno], flush=True)\n";
  }

  private static List<String> run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
      }
    }
    p.waitFor(10, TimeUnit.SECONDS);
    return lines;
  }
}
