package io.reuseport.steer;

import io.netty.channel.uring.IoUring;
import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: what is tested is where the kernel puts each datagram and SYN while a real stranger process
// sits in the group; the clients wait for answers that a stranger never gives.
/**
 * A process of the same user joins the port with a {@code SO_REUSEPORT} TCP listener and UDP socket (a small
 * Python process that answers nothing and counts what it gets). With the BPF selector it gets no connection and no
 * datagram, and no UDP flow of ours changes instance; with the kernel's hash it takes a share and flows move (so
 * the test can fail). Root only (CAP_BPF).
 */
@Timeout(120)
class LockedGroupTest {

  private static final String PYTHON = "/usr/bin/python3";
  private static final int INSTANCES = 4;
  private static final int FLOWS = 64;
  private static final int CONNECTIONS = 64;
  private static final int ANSWER_MS = 300;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
    Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "skipped: needs " + PYTHON + " for the stranger");
  }

  @Test
  void withBpfAStrangerGetsNothingAndNoFlowMoves() throws Exception {
    RunningServer server = start("bpf");
    List<DatagramSocket> flows = flows();
    try {
      assertThat(server.steering().active()).isTrue();
      int[] before = settled(flows, server.port());
      assertThat(before).as("every flow answered before the stranger joins").doesNotContain(-1);
      try (Stranger stranger = Stranger.join(server.port())) {
        JsonObject group = awaitForeign(server.adminPort());
        assertThat(group.getBoolean("foreignLockedOut")).isTrue();
        assertThat(group.getInteger("lockedOutTcp")).isEqualTo(1);
        assertThat(group.getInteger("lockedOutUdp")).isEqualTo(1);
        assertThat(Admin.get(server.adminPort(), "/metrics").body())
            .contains("reuseport_group_locked_out{protocol=\"tcp\"} 1.0")
            .contains("reuseport_group_locked_out{protocol=\"udp\"} 1.0");

        int[] during = instancesOf(flows, server.port());
        assertThat(during).as("each flow's instance, the stranger in the group").isEqualTo(before);
        assertThat(freshConnections(server.port())).as("fresh connections answered").isEqualTo(CONNECTIONS);
        assertThat(freshFlows(server.port())).as("fresh flows answered").isEqualTo(FLOWS);
        int[] got = stranger.received();
        System.out.printf("locked group, steering bpf: %d of %d flows moved; the stranger got %d of %d fresh"
            + " connections and %d datagrams%n", moved(before, during), FLOWS, got[0], CONNECTIONS, got[1]);
        assertThat(got).as("connections and datagrams the stranger got").containsExactly(0, 0);
      }
    } finally {
      flows.forEach(DatagramSocket::close);
      server.stop().await();
    }
  }

  @Test
  void onIoUringTheSelectorSteersButDoesNotClaimALockAnAfInetStrangerOutranks() throws Exception {
    Assumptions.assumeTrue(IoUring.isAvailable(), () -> "skipped: io_uring unavailable here: "
        + IoUring.unavailabilityCause());
    RunningServer server = Servers.start(new JsonObject().put("service", "stall").put("instances", INSTANCES)
        .put("steering", "bpf").put("transport", "io_uring").put("statsIntervalMs", 200));
    try {
      assertThat(server.steering().active()).isTrue();
      assertThat(server.steering().locksGroup()).as("io_uring's dual-stack group cannot be locked for IPv4")
          .isFalse();
      try (Stranger stranger = Stranger.join(server.port())) {
        JsonObject stats = Admin.freshStats(server.adminPort());
        JsonObject group = awaitForeign(server.adminPort());
        assertThat(group.getBoolean("foreignLockedOut")).isFalse();
        assertThat(stats.getJsonObject("steering").getBoolean("locksGroup")).isFalse();
        int answered = freshConnections(server.port());
        int[] got = stranger.received();
        System.out.printf("io_uring, steering bpf: the AF_INET stranger got %d of %d fresh connections%n", got[0],
            CONNECTIONS);
        // the kernel's lookup prefers the AF_INET socket over the AF_INET6 group: what the report must not hide
        assertThat(got[0]).as("connections the AF_INET stranger got").isPositive();
        assertThat(answered).isLessThan(CONNECTIONS);
      }
    } finally {
      server.stop().await();
    }
  }

  @Test
  void withTheKernelsHashAStrangerTakesAShareAndFlowsMove() throws Exception {
    RunningServer server = start("kernel");
    List<DatagramSocket> flows = flows();
    try {
      int[] before = settled(flows, server.port());
      assertThat(before).doesNotContain(-1);
      try (Stranger stranger = Stranger.join(server.port())) {
        JsonObject group = awaitForeign(server.adminPort());
        assertThat(group.getBoolean("foreignLockedOut")).isFalse();
        int moved = moved(before, instancesOf(flows, server.port()));
        assertThat(moved).as("flows that changed instance (or went to the stranger)").isPositive();
        int answered = freshConnections(server.port());
        assertThat(answered).isLessThan(CONNECTIONS);
        freshFlows(server.port());
        int[] got = stranger.received();
        System.out.printf("group change, steering kernel: %d of %d flows moved; the stranger got %d of %d fresh"
            + " connections and %d datagrams%n", moved, FLOWS, got[0], CONNECTIONS, got[1]);
        assertThat(got[0]).as("connections the stranger got").isPositive();
        assertThat(got[1]).as("datagrams the stranger got").isPositive();
      }
    } finally {
      flows.forEach(DatagramSocket::close);
      server.stop().await();
    }
  }

  private static int moved(int[] before, int[] during) {
    int moved = 0;
    for (int i = 0; i < before.length; i++) {
      moved += during[i] != before[i] ? 1 : 0;
    }
    return moved;
  }

  private static RunningServer start(String steering) {
    return Servers.start(new JsonObject().put("service", "stall").put("instances", INSTANCES)
        .put("steering", steering).put("statsIntervalMs", 200));
  }

  /** The group as /stats reports it, once the stranger's two sockets are seen (read once per stats interval). */
  private static JsonObject awaitForeign(int adminPort) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    JsonObject group = Admin.freshStats(adminPort).getJsonObject("group");
    while ((group.getInteger("foreignTcp") < 1 || group.getInteger("foreignUdp") < 1)
        && System.nanoTime() < deadline) {
      // poll pause: a stranger joining the group raises no event; the loop ends on it or the deadline
      Thread.sleep(50);
      group = Admin.freshStats(adminPort).getJsonObject("group");
    }
    assertThat(group.getInteger("foreignTcp")).isEqualTo(1);
    assertThat(group.getInteger("foreignUdp")).isEqualTo(1);
    return group;
  }

  private static List<DatagramSocket> flows() throws IOException {
    List<DatagramSocket> flows = new ArrayList<>();
    for (int i = 0; i < FLOWS; i++) {
      DatagramSocket s = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0));
      s.setSoTimeout(ANSWER_MS);
      flows.add(s);
    }
    return flows;
  }

  /** Each flow's instance once every flow has been answered (the first answers of a fresh server may be slow). */
  private static int[] settled(List<DatagramSocket> flows, int port) {
    int[] ids = instancesOf(flows, port);
    for (int round = 0; round < 5 && Arrays.stream(ids).anyMatch(id -> id < 0); round++) {
      ids = instancesOf(flows, port);
    }
    return ids;
  }

  /** Each flow asks its instance's id once; -1 for no answer in time. */
  private static int[] instancesOf(List<DatagramSocket> flows, int port) {
    int[] ids = new int[flows.size()];
    byte[] id = "id".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < ids.length; i++) {
      try {
        flows.get(i).send(new DatagramPacket(id, id.length, new InetSocketAddress(Clients.LOOPBACK, port)));
        DatagramPacket in = new DatagramPacket(new byte[64], 64);
        flows.get(i).receive(in);
        ids[i] = Integer.parseInt(new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).trim());
      } catch (IOException e) {
        ids[i] = -1;
      }
    }
    return ids;
  }

  /** New flows (fresh sockets), each asking once: how many got an answer. */
  private static int freshFlows(int port) throws IOException {
    List<DatagramSocket> fresh = flows();
    try {
      int answered = 0;
      for (int id : instancesOf(fresh, port)) {
        answered += id >= 0 ? 1 : 0;
      }
      return answered;
    } finally {
      fresh.forEach(DatagramSocket::close);
    }
  }

  /** Fresh connections, each asking its instance's id: how many got an answer. */
  private static int freshConnections(int port) {
    int answered = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(Clients.LOOPBACK, port), ANSWER_MS);
        s.setSoTimeout(ANSWER_MS);
        s.getOutputStream().write("id\n".getBytes(StandardCharsets.US_ASCII));
        String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
            .readLine();
        answered += line != null ? 1 : 0;
      } catch (IOException e) {
        // not answered
      }
    }
    return answered;
  }

  /** A Python process of the same user in the group: a TCP listener and a UDP socket that count and answer nothing. */
  private static final class Stranger implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;

    private Stranger(Process process, BufferedReader out) {
      this.process = process;
      this.out = out;
    }

    static Stranger join(int port) throws IOException {
      String script = "import socket, sys\n"
          + "t = socket.socket()\n"
          + "t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
          + "t.bind(('127.0.0.1', " + port + "))\n"
          + "t.listen(512)\n"
          + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
          + "u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
          + "u.bind(('127.0.0.1', " + port + "))\n"
          + "t.setblocking(False)\n"
          + "u.setblocking(False)\n"
          + "print('JOINED', flush=True)\n"
          + "sys.stdin.readline()\n"
          + "def drain(f):\n"
          + "    n = 0\n"
          + "    while True:\n"
          + "        try:\n"
          + "            f()\n"
          + "            n += 1\n"
          + "        except BlockingIOError:\n"
          + "            return n\n"
          + "print(drain(t.accept), drain(lambda: u.recv(2048)), flush=True)\n"
          + "sys.stdin.readline()\n";
      Process p = new ProcessBuilder(PYTHON, "-c", script).redirectErrorStream(true).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String first = out.readLine();
      if (!"JOINED".equals(first)) {
        p.destroyForcibly();
        throw new IOException("the stranger did not join: " + first);
      }
      return new Stranger(p, out);
    }

    /** Connections and datagrams it got so far: {tcp, udp}. */
    int[] received() throws IOException {
      OutputStream in = process.getOutputStream();
      in.write('\n');
      in.flush();
      String[] counts = out.readLine().trim().split(" ");
      return new int[] {Integer.parseInt(counts[0]), Integer.parseInt(counts[1])};
    }

    @Override
    public void close() throws Exception {
      try (OutputStream in = process.getOutputStream()) {
        in.write('\n');
        in.write('\n');
      } catch (IOException e) {
        // already gone
      }
      process.waitFor(10, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
  }
}
