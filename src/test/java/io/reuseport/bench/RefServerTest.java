package io.reuseport.bench;

import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bench/refserver.c, the C reference server bench/compare.sh measures against, built from the repo with gcc and run:
 * one SO_REUSEPORT listener and UDP socket per thread on one port (counted in /proc/net), echoing both; and
 * bench/churn.c, the C churn client, against it. Blocks on the compiler and the processes, which are separate
 * programs. Skipped with a message where gcc is missing.
 */
@Timeout(120)
class RefServerTest {

  private static final Pattern READY = Pattern.compile("refserver: (\\d+) threads on port (\\d+)");
  private static final int THREADS = 3;

  @Test
  void everyThreadBindsItsOwnSocketsAndEchoes(@TempDir Path dir) throws Exception {
    assumeTrue(run("gcc", "--version") == 0, "gcc is not installed (Debian: apt-get install gcc): skipped");
    Path binary = dir.resolve("refserver");
    assertThat(run("gcc", "-O2", "-pthread", "-o", binary.toString(), "bench/refserver.c")).isZero();

    Process server = new ProcessBuilder(binary.toString(), "0", String.valueOf(THREADS), "127.0.0.1").start();
    try {
      BufferedReader log = new BufferedReader(new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8));
      String line = log.readLine();
      assertThat(line).as("refserver's ready line").isNotNull();
      Matcher ready = READY.matcher(line);
      assertThat(ready.find()).as(line).isTrue();
      int port = Integer.parseInt(ready.group(2));

      assertThat(KernelSockets.tcpListeners(port)).hasSize(THREADS);
      assertThat(KernelSockets.udpSockets(port)).hasSize(THREADS);
      try (Socket tcp = Clients.connect(port); DatagramSocket udp = Clients.udp()) {
        byte[] out = "hello, reference\n".getBytes(StandardCharsets.UTF_8);
        tcp.getOutputStream().write(out);
        assertThat(tcp.getInputStream().readNBytes(out.length)).isEqualTo(out);
        udp.send(new DatagramPacket(out, out.length, new InetSocketAddress(Clients.LOOPBACK, port)));
        DatagramPacket in = new DatagramPacket(new byte[100], 100);
        udp.receive(in);
        assertThat(Arrays.copyOf(in.getData(), in.getLength())).isEqualTo(out);
      }
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void churnClientReportsItsConnectionsAndItsOwnCpu(@TempDir Path dir) throws Exception {
    assumeTrue(run("gcc", "--version") == 0, "gcc is not installed (Debian: apt-get install gcc): skipped");
    Path server = dir.resolve("refserver");
    Path churn = dir.resolve("churn");
    assertThat(run("gcc", "-O2", "-pthread", "-o", server.toString(), "bench/refserver.c")).isZero();
    assertThat(run("gcc", "-O2", "-o", churn.toString(), "bench/churn.c")).isZero();
    Process ref = new ProcessBuilder(server.toString(), "0", "2", "127.0.0.1").start();
    try {
      BufferedReader log = new BufferedReader(new InputStreamReader(ref.getErrorStream(), StandardCharsets.UTF_8));
      Matcher ready = READY.matcher(String.valueOf(log.readLine()));
      assertThat(ready.find()).isTrue();
      Process client = new ProcessBuilder(churn.toString(), "127.0.0.1", ready.group(2), "4", "1", "0", "32")
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
      JsonObject report = new JsonObject(out.strip());
      assertThat(report.getLong("successes")).isPositive().isEqualTo(report.getLong("requests"));
      assertThat(report.getDouble("cpuCoresUsed")).isBetween(0.0, 1.0);
      assertThat(report.getDouble("machineCpuLoad")).isBetween(0.0, 1.0);
      assertThat(report.getDouble("clientCpuUsPerConn")).isPositive();
      assertThat(report.getBoolean("clientCpuSaturated")).isEqualTo(report.getDouble("cpuCoresUsed") >= 0.9);
    } finally {
      ref.destroy();
      ref.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void wrongArgumentsExitTwoWithUsage(@TempDir Path dir) throws Exception {
    assumeTrue(run("gcc", "--version") == 0, "gcc is not installed (Debian: apt-get install gcc): skipped");
    Path binary = dir.resolve("refserver");
    assertThat(run("gcc", "-O2", "-pthread", "-o", binary.toString(), "bench/refserver.c")).isZero();
    assertThat(run(binary.toString())).isEqualTo(2);
    assertThat(run(binary.toString(), "70000", "2")).isEqualTo(2);
    assertThat(run(binary.toString(), "0", "2", "not-an-address")).isEqualTo(2);
  }

  /** Runs a command to its end (60 s at most); its exit code, or -1 when it cannot start. */
  private static int run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      return -1;
    }
  }
}
