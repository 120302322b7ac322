package io.reuseport.reliability;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that misbehave: each case shows the server stays up, answers the next client, and counts what it refused.
 * Figures (memory, descriptors, drops) are printed as {@code figure: ...} lines for docs/RELIABILITY.md.
 */
@Timeout(180)
class BadInputTest {

  private static final long MIB = 1 << 20;

  @Test
  void thousandsOfConnectionsBeyondTheLimitAreRefusedAndCounted() throws Exception {
    int perInstance = 500;
    int attempts = 1_500;
    RunningServer server = Servers.start(new JsonObject().put("maxConnectionsPerInstance", perInstance));
    List<Socket> clients = new ArrayList<>();
    try {
      long fdsBefore = openFds();
      for (int i = 0; i < attempts; i++) {
        clients.add(Clients.connect(server.port()));
      }
      while (Servers.total(server, "tcp", "accepted") + Servers.total(server, "tcp", "rejected") < attempts) {
        Thread.sleep(50);
      }
      // each instance got far more than its limit (1,500 fresh 4-tuples over 2 sockets): both are full
      assertThat(Servers.total(server, "tcp", "active")).isEqualTo(2L * perInstance);
      assertThat(Servers.total(server, "tcp", "rejected")).isEqualTo(attempts - 2L * perInstance);
      System.out.printf("figure: limit: %d attempted, %d admitted, %d refused, fds in this JVM +%d%n", attempts,
          Servers.total(server, "tcp", "active"), Servers.total(server, "tcp", "rejected"), openFds() - fdsBefore);
      for (Socket s : clients) {
        s.close();
      }
      clients.clear();
      while (Servers.total(server, "tcp", "active") > 0) {
        Thread.sleep(50);
      }
      assertEchoes(server.port());
    } finally {
      for (Socket s : clients) {
        s.close();
      }
      server.stop().await();
    }
  }

  @Test
  void fiveHundredClientsThatSendWithoutReadingKeepMemoryBounded() throws Exception {
    int clients = 500;
    long perClient = 1024 * 1024;
    RunningServer server = Servers.start(new JsonObject());
    List<SocketChannel> channels = new ArrayList<>();
    try {
      long directBefore = direct();
      long heapBefore = heapAfterGc();
      for (int i = 0; i < clients; i++) {
        SocketChannel ch = SocketChannel.open();
        // a small receive window: the echo backs up into the server soon
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 * 1024);
        ch.connect(new InetSocketAddress(Clients.LOOPBACK, server.port()));
        ch.configureBlocking(false);
        channels.add(ch);
      }
      long[] sent = new long[clients];
      ByteBuffer chunk = ByteBuffer.allocateDirect(16 * 1024);
      // rounds over every client until each is either done or blocked (the server stopped reading it)
      for (int round = 0; round < 200; round++) {
        boolean progress = false;
        for (int i = 0; i < clients; i++) {
          if (sent[i] < perClient) {
            chunk.clear();
            int n = channels.get(i).write(chunk);
            sent[i] += n;
            progress |= n > 0;
          }
        }
        if (!progress) {
          break;
        }
      }
      // a connect completes at the handshake; the server may still be accepting
      while (Servers.total(server, "tcp", "active") < clients) {
        Thread.sleep(50);
      }
      long total = Arrays.stream(sent).sum();
      long blocked = Arrays.stream(sent).filter(s -> s < perClient).count();
      long directGrowth = direct() - directBefore;
      long heapGrowth = heapAfterGc() - heapBefore;
      System.out.printf("figure: backpressure: %d clients sent %d MiB without reading (%d blocked),"
          + " direct memory %+d MiB, heap after GC %+d MiB, fds %d%n", clients, total / MIB, blocked,
          directGrowth / MIB, heapGrowth / MIB, openFds());
      // 500 outbound queues held at Netty's 64 KiB high-water mark, plus read buffers: far below what was sent
      assertThat(directGrowth).as("direct memory growth").isLessThan(128 * MIB);
      assertThat(heapGrowth).as("heap growth after GC").isLessThan(128 * MIB);
      assertEchoes(server.port());
    } finally {
      for (SocketChannel ch : channels) {
        ch.close();
      }
      server.stop().await();
    }
  }

  @Test
  void resetsMidTransferAndHalfClosesLeaveTheServerServing() throws Exception {
    RunningServer server = Servers.start(new JsonObject());
    try {
      byte[] payload = new byte[64 * 1024];
      for (int i = 0; i < 200; i++) {
        Socket s = Clients.connect(server.port());
        s.getOutputStream().write(payload);
        s.setSoLinger(true, 0);
        s.close();
      }
      for (int i = 0; i < 100; i++) {
        try (Socket s = Clients.connect(server.port())) {
          byte[] out = new byte[10_000];
          new Random(i).nextBytes(out);
          s.getOutputStream().write(out);
          s.shutdownOutput();
          InputStream in = s.getInputStream();
          assertThat(in.readNBytes(out.length)).as("echo after half-close").isEqualTo(out);
          assertThat(in.read()).as("then the server closes").isEqualTo(-1);
        }
      }
      while (Servers.total(server, "tcp", "active") > 0) {
        Thread.sleep(50);
      }
      System.out.printf("figure: resets: 200 reset mid-transfer, 100 half-closed; tcp errors counted %d%n",
          Servers.total(server, "tcp", "errors"));
      assertEchoes(server.port());
    } finally {
      server.stop().await();
    }
  }

  @Test
  void aUdpFloodNeverClosesTheSocketsAndDropsShowPerInstance() throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("udpReceiveBufferBytes", 256 * 1024));
    int senders = 4;
    int each = 50_000;
    try {
      long backlogDropsBefore = backlogDrops();
      InetSocketAddress target = new InetSocketAddress(Clients.LOOPBACK, server.port());
      byte[] payload = new byte[1_024];
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < senders; t++) {
        threads.add(new Thread(() -> {
          // never reads: the echoes overflow this socket's own buffer, which is fine
          try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0))) {
            for (int i = 0; i < each; i++) {
              s.send(new DatagramPacket(payload, payload.length, target));
            }
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }));
      }
      threads.forEach(Thread::start);
      for (Thread t : threads) {
        t.join();
      }
      try (DatagramSocket s = Clients.udp()) {
        for (int size : new int[] {0, 1, 65_507}) {
          assertThat(udpEcho(s, server.port(), size)).as("echo of %d bytes after the flood", size).isEqualTo(size);
        }
      }
      // the kernel's drop counts are read once per stats interval: wait for a read after the flood
      long after = Admin.freshStats(server.adminPort()).getLong("uptimeMs") + 2_100;
      JsonObject stats = Admin.freshStats(server.adminPort());
      while (stats.getLong("uptimeMs") < after) {
        Thread.sleep(100);
        stats = Admin.freshStats(server.adminPort());
      }
      JsonArray instances = stats.getJsonArray("instances");
      long drops = 0;
      long received = 0;
      for (int i = 0; i < instances.size(); i++) {
        JsonObject udp = instances.getJsonObject(i).getJsonObject("udp");
        assertThat(udp.containsKey("drops")).as("instance %d reports its kernel drops", i).isTrue();
        drops += udp.getLong("drops");
        received += udp.getLong("datagramsIn");
      }
      System.out.printf("figure: udp flood: %d sent, %d received, %d dropped at the sockets (per instance %s),"
          + " %d dropped before them (netdev backlog, all traffic of the host)%n", (long) senders * each, received,
          drops, instances.stream().map(o -> ((JsonObject) o).getJsonObject("udp").getLong("drops")).toList(),
          backlogDrops() - backlogDropsBefore);
      assertThat(server.udpSocketFds()).as("every UDP socket still open").hasSize(2);
    } finally {
      server.stop().await();
    }
  }

  @Test
  void malformedAdminRequestsGet4xxAndTheServiceIsUnaffected() throws Exception {
    RunningServer server = Servers.start(new JsonObject());
    try {
      int admin = server.adminPort();
      assertThat(rawStatus(admin, "GARBAGE\r\n\r\n")).isBetween(400, 499);
      assertThat(rawStatus(admin, "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")).isBetween(400, 499);
      assertThat(rawStatus(admin, "GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n"))
          .isBetween(400, 499);
      assertThat(rawStatus(admin, "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
          + "c".repeat(64 * 1024))).isBetween(400, 499);
      assertThat(rawStatus(admin, "FOO /stats HTTP/1.1\r\nHost: x\r\n\r\n")).isBetween(400, 499);
      assertThat(rawStatus(admin, "DELETE /stats HTTP/1.1\r\nHost: x\r\n\r\n")).isBetween(400, 499);
      assertThat(Admin.get(admin, "/stats").statusCode()).isEqualTo(200);
      assertEchoes(server.port());
    } finally {
      server.stop().await();
    }
  }

  /** Sends raw bytes and returns the status code of the response's first line, or -1 when closed without one. */
  private static int rawStatus(int port, String request) throws IOException {
    try (Socket s = Clients.connect(port)) {
      s.setSoTimeout(10_000);
      try {
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      } catch (IOException closedWhileSending) {
        // the server may answer and close before reading everything; the answer is still there to read
      }
      byte[] head = s.getInputStream().readNBytes(12);
      String line = new String(head, StandardCharsets.US_ASCII);
      return line.startsWith("HTTP/1.") && line.length() >= 12 ? Integer.parseInt(line.substring(9, 12)) : -1;
    } catch (SocketTimeoutException e) {
      return -1;
    }
  }

  private static int udpEcho(DatagramSocket s, int port, int size) throws IOException {
    s.send(new DatagramPacket(new byte[size], size, new InetSocketAddress(Clients.LOOPBACK, port)));
    DatagramPacket in = new DatagramPacket(new byte[70_000], 70_000);
    s.receive(in);
    return in.getLength();
  }

  private static void assertEchoes(int port) throws IOException {
    try (Socket s = Clients.connect(port)) {
      s.getOutputStream().write(42);
      assertThat(s.getInputStream().read()).as("the next client is served").isEqualTo(42);
    }
  }

  /** Packets dropped because a CPU's input backlog was full ({@code /proc/net/softnet_stat}, column 2). */
  private static long backlogDrops() throws IOException {
    return Files.readAllLines(Path.of("/proc/net/softnet_stat")).stream()
        .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[1], 16)).sum();
  }

  private static long openFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  /** Direct memory: the JDK's direct buffers, Netty's own counter (no-cleaner buffers) and its pools. */
  private static long direct() {
    long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    return jdk + Math.max(0, PlatformDependent.usedDirectMemory())
        + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
  }

  private static long heapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
