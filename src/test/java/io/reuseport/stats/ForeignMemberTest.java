package io.reuseport.stats;

import io.reuseport.server.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A process of the same user joins the port's reuseport group silently and takes a share of the traffic: the
 * collector sees it in the kernel's tables, reports it as foreign, and stops reporting it once it is gone.
 */
@Timeout(60)
class ForeignMemberTest {

  /** Binds a TCP listener and a UDP socket with SO_REUSEPORT on the port, says so, and waits for stdin to close. */
  private static final String JOINER = String.join("\n",
      "import socket, sys",
      "port = int(sys.argv[1])",
      "t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
      "t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)",
      "t.bind(('127.0.0.1', port)); t.listen(16)",
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)",
      "u.bind(('127.0.0.1', port))",
      "print('joined', flush=True)",
      "sys.stdin.read()");

  @Test
  void aForeignProcessInTheGroupIsReportedUntilItLeaves() throws Exception {
    assumeTrue(onPath("python3"),
        "python3 is needed to run a foreign process");
    RunningServer server = Servers.start(new JsonObject().put("instances", 2).put("statsIntervalMs", 200));
    Process joiner = new ProcessBuilder("python3", "-c", JOINER, Integer.toString(server.port()))
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(joiner.getInputStream(),
          StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("joined");
      JsonObject group = Admin.freshStats(server.adminPort()).getJsonObject("group");
      assertThat(group.getInteger("tcpListeners")).isEqualTo(3);
      assertThat(group.getInteger("udpSockets")).isEqualTo(3);
      assertThat(group.getInteger("foreignTcp")).isEqualTo(1);
      assertThat(group.getInteger("foreignUdp")).isEqualTo(1);
      assertThat(Admin.get(server.adminPort(), "/metrics").body())
          .contains("reuseport_group_foreign{protocol=\"tcp\"} 1.0");

      joiner.getOutputStream().close();
      assertThat(joiner.waitFor(10, TimeUnit.SECONDS)).isTrue();
      group = Admin.freshStats(server.adminPort()).getJsonObject("group");
      assertThat(group.getInteger("foreignTcp")).isZero();
      assertThat(group.getInteger("foreignUdp")).isZero();
      assertThat(group.getInteger("tcpListeners")).isEqualTo(2);
    } finally {
      joiner.destroyForcibly();
      server.stop().await();
    }
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (new java.io.File(dir, command).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
