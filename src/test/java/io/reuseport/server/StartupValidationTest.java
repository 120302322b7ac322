package io.reuseport.server;

import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: each case runs the real main in a child JVM and waits for its exit code and output.
/**
 * Wrong start-up input: the real main exits non-zero with one line naming the setting, and leaves nothing running.
 */
@Timeout(120)
class StartupValidationTest {

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--balancing roundrobin | invalid setting 'balancing': 'roundrobin' is not one of reuseport, shared",
      "--transport kqueue     | invalid setting 'transport': 'kqueue' is not one of auto, epoll, io_uring, nio",
      "--transport nio        | invalid setting 'transport': nio cannot set SO_REUSEPORT",
      "--service chargen      | invalid setting 'service': 'chargen' is not one of discard, echo",
      "--port 70000           | invalid setting 'port': 70000 is out of range 0..65535",
      "--port -1              | invalid setting 'port': -1 is out of range 0..65535",
      "--port nine            | invalid setting 'port': expected an integer, got 'nine'",
      "--instances 0          | invalid setting 'instances': 0 is out of range 1..1024",
      "--no-such-flag 1       | Unknown options: '--no-such-flag'",
  })
  void badFlagsStopStartUpWithOneLine(String args, String message) throws Exception {
    assertRejected(ChildServer.start(dir, Map.of(), args.trim().split("\\s+")), message);
  }

  @Test
  void badEnvironmentVariableIsNamedByItsSetting() throws Exception {
    assertRejected(ChildServer.start(dir, Map.of("REUSEPORT_MAX_CONNECTIONS_PER_INSTANCE", "lots")),
        "invalid setting 'maxConnectionsPerInstance': expected an integer, got 'lots'");
  }

  @Test
  void malformedJsonFile() throws Exception {
    Files.writeString(dir.resolve("bad.json"), "{\"port\": 9000,");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "bad.json"),
        "invalid setting 'conf': bad.json is not a JSON object");
  }

  @Test
  void unknownKeyInFile() throws Exception {
    Files.writeString(dir.resolve("typo.json"), "{\"prot\": 9000}");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "typo.json"),
        "invalid setting 'prot': unknown setting; known settings are host, port");
  }

  @Test
  void portHeldByASocketWithoutReusePort() throws Exception {
    try (ServerSocket squatter = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = squatter.getLocalPort();
      ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", Integer.toString(port),
          "--admin-port", "0");
      assertThat(child.awaitExit(60)).isEqualTo(1);
      assertThat(child.output()).anyMatch(l -> l.contains("cannot bind 127.0.0.1:" + port + " (setting 'port')"));
      assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
    }
  }

  private static void assertRejected(ChildServer child, String message) throws InterruptedException {
    assertThat(child.awaitExit(60)).as("exit code; output %s", child.output()).isEqualTo(2);
    assertThat(child.output()).as("output").anyMatch(l -> l.startsWith("reuseport-server: ") && l.contains(message));
    assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
  }
}
