package io.reuseport.service;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real {@code sockperf} client (Debian package {@code sockperf}) against {@code --service sockperf}, in its three
 * modes over UDP and TCP, one second each. Blocks on the client process: it is a separate program whose exit and
 * output are the result. Skipped with a message where sockperf is not installed.
 */
@Timeout(120)
class SockperfClientTest {

  private static final Pattern VALID = Pattern.compile(
      "\\[Valid Duration\\] RunTime=[0-9.]+ sec; SentMessages=(\\d+); ReceivedMessages=(\\d+)");
  private static final Pattern FAULTS = Pattern.compile(
      "# dropped messages = (\\d+); # duplicated messages = (\\d+); # out-of-order messages = (\\d+)");
  private static final Pattern RATE = Pattern.compile("Message Rate is (\\d+) \\[msg/sec\\]");

  private static RunningServer server;

  @BeforeAll
  static void start() throws IOException {
    assumeTrue(sockperfInstalled(), "sockperf is not installed (Debian: apt-get install sockperf): skipped");
    server = Servers.start(new JsonObject().put("service", "sockperf"));
    warmUp();
  }

  /**
   * One ping on each protocol before sockperf runs: a fresh server's first datagram can take over a second on a busy
   * machine (Netty's buffer allocator sets up its JFR events on its first chunk), longer than sockperf waits.
   */
  private static void warmUp() throws IOException {
    byte[] ping = SockperfServiceTest.message(1, SockperfService.FROM_CLIENT | SockperfService.REPLY_REQUESTED, 64)
        .getBytes();
    try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0));
         Socket tcp = Clients.connect(server.port())) {
      udp.setSoTimeout(30_000);
      udp.send(new DatagramPacket(ping, ping.length, new InetSocketAddress(Clients.LOOPBACK, server.port())));
      udp.receive(new DatagramPacket(new byte[100], 100));
      tcp.setSoTimeout(30_000);
      tcp.getOutputStream().write(ping);
      tcp.getInputStream().readNBytes(ping.length);
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.stop().await();
    }
  }

  @ParameterizedTest(name = "{0} over {1}")
  @CsvSource({"ping-pong, udp", "ping-pong, tcp", "under-load, udp", "under-load, tcp"})
  void latencyModesGetEveryReplyBack(String mode, String protocol) throws Exception {
    String out = sockperf(mode, protocol, "--mps", mode.equals("under-load") ? "2000" : "max");
    Matcher valid = VALID.matcher(out);
    assertThat(valid.find()).as("sockperf output:%n%s", out).isTrue();
    assertThat(Long.parseLong(valid.group(2))).as("replies received; output:%n%s", out).isPositive();
    Matcher faults = FAULTS.matcher(out);
    assertThat(faults.find()).as("sockperf output:%n%s", out).isTrue();
    assertThat(List.of(faults.group(2), faults.group(3))).as("duplicated, out of order; output:%n%s", out)
        .containsOnly("0");
    if (mode.equals("ping-pong")) {
      // under-load keeps sending while replies are on their way: a reply to a message sent just before the end can
      // come after sockperf stopped reading, and it reports that one as dropped (its client.cpp says as much)
      assertThat(faults.group(1)).as("dropped; output:%n%s", out).isEqualTo("0");
    }
  }

  @ParameterizedTest(name = "throughput over {0}")
  @CsvSource({"udp", "tcp"})
  void throughputModeIsReadAndNotAnswered(String protocol) throws Exception {
    String counted = protocol.equals("udp") ? "datagramsIn" : "bytesIn";
    String answered = protocol.equals("udp") ? "datagramsOut" : "bytesOut";
    long inBefore = Servers.total(server, protocol, counted);
    long outBefore = Servers.total(server, protocol, answered);
    String out = sockperf("throughput", protocol, "--mps", "20000");
    Matcher rate = RATE.matcher(out);
    assertThat(rate.find()).as("sockperf output:%n%s", out).isTrue();
    assertThat(Long.parseLong(rate.group(1))).isPositive();
    assertThat(Servers.total(server, protocol, counted)).as("the server read them").isGreaterThan(inBefore);
    assertThat(Servers.total(server, protocol, answered)).as("and answered none").isEqualTo(outBefore);
  }

  /** Runs the sockperf client for one second against the server; its output once it exited 0. */
  private static String sockperf(String mode, String protocol, String... extra) throws Exception {
    List<String> command = new ArrayList<>(List.of("sockperf", mode, "-i", "127.0.0.1", "-p",
        String.valueOf(server.port()), "-t", "1", "-m", "64"));
    if (protocol.equals("tcp")) {
      command.add("--tcp");
    }
    command.addAll(List.of(extra));
    Path log = Files.createTempFile("sockperf", ".log");
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean exited = p.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(exited).as("sockperf ended by itself; output:%n%s", out).isTrue();
      assertThat(p.exitValue()).as("sockperf exit code; output:%n%s", out).isZero();
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static boolean sockperfInstalled() {
    try {
      Process p = new ProcessBuilder("sockperf", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
