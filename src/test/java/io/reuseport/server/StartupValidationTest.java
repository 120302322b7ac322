package io.reuseport.server;

import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.DatagramSocket;
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
      "--balancing roundrobin | invalid setting 'balancing' (flag --balancing): 'roundrobin' is not one of reuseport,"
          + " shared",
      "--transport kqueue     | invalid setting 'transport' (flag --transport): 'kqueue' is not one of auto, epoll,"
          + " io_uring, nio",
      "--transport nio        | invalid setting 'transport' (flag --transport): nio cannot set SO_REUSEPORT",
      "--service chargen      | invalid setting 'service' (flag --service): 'chargen' is not one of",
      "--port 70000           | invalid setting 'port' (flag --port): 70000 is out of range 0..65535",
      "--port -1              | invalid setting 'port' (flag --port): -1 is out of range 0..65535",
      "--port nine            | invalid setting 'port' (flag --port): expected an integer, got 'nine'",
      "--instances 0          | invalid setting 'instances' (flag --instances): 0 is out of range 1..1024",
      "--no-such-flag 1       | Unknown options: '--no-such-flag'",
      "--porrt 9500           | Unknown options: '--porrt', '9500'; did you mean --port?",
      "--host not-a-host      | invalid setting 'host' (flag --host): 'not-a-host' is neither an IP address nor a"
          + " host name that resolves",
      "--admin-host nowhere.invalid | invalid setting 'adminHost' (flag --admin-host): 'nowhere.invalid' is neither",
      "--port 9500 --admin-port 9500 | invalid setting 'adminPort' (flag --admin-port): 9500 is also the service"
          + " port ('port', flag --port); the admin server needs a port of its own",
  })
  void badFlagsStopStartUpWithOneLine(String args, String message) throws Exception {
    assertRejected(ChildServer.start(dir, Map.of(), args.trim().split("\\s+")), message);
  }

  /** Nothing before the error: no INFO line of a start-up that is not going to happen. */
  @Test
  void anUnknownServicePrintsItsOneLineOnly() throws Exception {
    ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--service", "nosuch");
    assertRejected(child, "invalid setting 'service' (flag --service): 'nosuch' is not one of");
    assertThat(child.output()).as("output").hasSize(1);
  }

  @Test
  void badEnvironmentVariableIsNamedByItsSettingAndVariable() throws Exception {
    assertRejected(ChildServer.start(dir, Map.of("REUSEPORT_MAX_CONNECTIONS_PER_INSTANCE", "lots")),
        "invalid setting 'maxConnectionsPerInstance' (environment variable REUSEPORT_MAX_CONNECTIONS_PER_INSTANCE):"
            + " expected an integer, got 'lots'");
    assertRejected(ChildServer.start(dir, Map.of("REUSEPORT_INSTANCES", "abc")),
        "invalid setting 'instances' (environment variable REUSEPORT_INSTANCES): expected an integer, got 'abc'");
  }

  @Test
  void misspeltEnvironmentVariableIsRefusedLikeAnUnknownKey() throws Exception {
    assertRejected(ChildServer.start(dir, Map.of("REUSEPORT_PROT", "9500")),
        "invalid setting 'REUSEPORT_PROT' (environment variable): unknown variable; did you mean REUSEPORT_PORT?");
  }

  @Test
  void nullInTheFileIsNotTheDefault() throws Exception {
    Files.writeString(dir.resolve("null.json"), "{\"port\": null}");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "null.json"),
        "invalid setting 'port' (file null.json): null is not a value; leave the setting out to get its default"
            + " (9000)");
  }

  @Test
  void jsonArrayAsConfigFile() throws Exception {
    Files.writeString(dir.resolve("array.json"), "[{\"port\": 9000}]");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "array.json"),
        "invalid setting 'conf': array.json is a JSON array, not a JSON object");
  }

  @Test
  void configPathThatIsNotARegularFileIsRefusedAtOnce() throws Exception {
    Path fifo = dir.resolve("config.fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "config.fifo"),
        "invalid setting 'conf': config.fifo is not a regular file (a FIFO, socket or device)");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "/dev/zero"),
        "invalid setting 'conf': /dev/zero is not a regular file (a FIFO, socket or device)");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "."),
        "invalid setting 'conf': . is not a regular file (a directory)");
  }

  @Test
  void configFileOverOneMebibyteIsRefused() throws Exception {
    Files.writeString(dir.resolve("huge.json"), "{\"host\": \"" + "x".repeat(2 << 20) + "\"}");
    assertRejected(ChildServer.start(dir, Map.of(), "--conf", "huge.json"),
        "invalid setting 'conf': huge.json is " + Files.size(dir.resolve("huge.json"))
            + " bytes; a configuration file is at most 1 MiB");
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
        "invalid setting 'prot' (file typo.json): unknown setting; did you mean 'port'? Known settings are host,"
            + " port");
  }

  @Test
  void portHeldByASocketWithoutReusePort() throws Exception {
    try (ServerSocket squatter = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = squatter.getLocalPort();
      ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", Integer.toString(port),
          "--admin-port", "0");
      assertThat(child.awaitExit(60)).isEqualTo(1);
      assertThat(child.output()).anyMatch(l -> l.contains("cannot bind TCP 127.0.0.1:" + port + " (setting 'port')")
          && l.contains("('port' is set by flag --port)"));
      assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
    }
  }

  @Test
  void udpOnlyConflictSaysUdp() throws Exception {
    try (DatagramSocket squatter = udpSocketWhoseTcpTwinIsFree()) {
      int port = squatter.getLocalPort();
      ChildServer child = ChildServer.start(dir, Map.of("REUSEPORT_PORT", Integer.toString(port)), "--host",
          "127.0.0.1", "--admin-port", "0", "--instances", "1");
      assertThat(child.awaitExit(60)).as("exit code; output %s", child.output()).isEqualTo(1);
      assertThat(child.output()).as("output").anyMatch(l -> l.startsWith("reuseport-server: cannot bind UDP 127.0.0.1:"
          + port + " (setting 'port')") && l.contains("a UDP socket without SO_REUSEPORT")
          && l.contains("('port' is set by environment variable REUSEPORT_PORT)"));
      assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
    }
  }

  @Test
  void helpMentionsTheLoadSubcommand() throws Exception {
    ChildServer child = ChildServer.start(dir, Map.of(), "--help");
    assertThat(child.awaitExit(60)).isZero();
    assertThat(child.output()).anyMatch(l -> l.contains("reuseport-server load"));
  }

  private static void assertRejected(ChildServer child, String message) throws InterruptedException {
    assertThat(child.awaitExit(60)).as("exit code; output %s", child.output()).isEqualTo(2);
    assertThat(child.output()).as("output").anyMatch(l -> l.startsWith("reuseport-server: ") && l.contains(message));
    assertThat(child.output()).noneMatch(l -> l.contains("ready:"));
  }

  /**
   * A UDP socket on an ephemeral port whose TCP twin was free a moment ago: otherwise the server's TCP bind fails
   * first (some other process's connection may hold the same port number) and the test checks nothing about UDP.
   */
  private static DatagramSocket udpSocketWhoseTcpTwinIsFree() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
      try (ServerSocket tcp = new ServerSocket(udp.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
        return udp;
      } catch (IOException tcpTaken) {
        udp.close();
      }
    }
    throw new IOException("no ephemeral port free for both UDP and TCP in 50 attempts");
  }
}
