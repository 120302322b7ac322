package io.reuseport.reliability;

import io.reuseport.admin.AdminRoutes;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

// Blocking by design: a child JVM under a bounded load, sampled from outside; the test waits on the samples.
/**
 * A mixed soak against the real server in a child JVM: TCP churn, persistent TCP echo, clients that close with a
 * reset, and UDP ping-pong at once, with Netty's leak detector at {@code paranoid} in the server. Between an idle
 * server before the load and the same server idle after it: open descriptors flat, heap after a full GC within
 * {@value #HEAP_GROWTH_MIB} MiB, no leak report in its output, and every counter balanced against what the clients
 * did ({@code accepted = closed + active} with none active, every connection the clients made accepted, every reset
 * counted as a reset and none as an error, {@code datagrams in = out + reply drops}, every datagram sent received or
 * dropped by the kernel).
 *
 * <p>Two modes. Bounded, by default and in CI: {@value #DEFAULT_SECONDS} s of load with few client threads. Long,
 * for benchmark runs: {@code -Dsoak.seconds=1800} (at most {@value #MAX_SECONDS}) or {@code bench/soak.sh}. Samples
 * go to {@code target/reliability/soak.json} in both.
 */
class SoakTest {

  /** The bounded mode's load: with start-up and the checks, about 1.5 minutes on a busy 2-core machine. */
  static final long DEFAULT_SECONDS = 60;
  /** Surefire stops the forked JVM after 45 minutes (pom.xml): the load, start-up and checks stay under it. */
  static final long MAX_SECONDS = 2_400;
  /** How much the heap after a full GC may grow between the idle server before and after the load. */
  static final long HEAP_GROWTH_MIB = 16;
  /**
   * How many more descriptors the idle server may hold after the load than before it: what the JVM opens lazily
   * once (a class file's jar, a JIT log); a leak of one per connection would be thousands.
   */
  static final long FD_SLACK = 8;
  private static final int PERSISTENT_THREADS = 2;
  private static final int PERSISTENT_PER_THREAD = 4;
  private static final int CHURN_TCP_THREADS = 3;
  private static final int CHURN_UDP_THREADS = 1;
  private static final byte[] PING = "0123456789abcdef".repeat(4).getBytes(StandardCharsets.US_ASCII);

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  // above the suite's default of 5 minutes; the load's own bound is the assertTimeoutPreemptively below
  @Timeout(value = MAX_SECONDS + 300, unit = TimeUnit.SECONDS)
  void mixedLoadKeepsDescriptorsHeapAndCountersBalancedWithoutLeaks() {
    long seconds = Long.getLong("soak.seconds", DEFAULT_SECONDS);
    assertThat(seconds).as("-Dsoak.seconds").isBetween(10L, MAX_SECONDS);
    // start-up, sampling, the drain and the checks take well under 4 minutes beyond the load itself
    assertTimeoutPreemptively(Duration.ofSeconds(seconds + 240), () -> soak(seconds));
  }

  private void soak(long seconds) throws Exception {
    Path logback = dir.resolve("logback-soak.xml");
    // the server's own log at INFO (the test configuration logs every reset at DEBUG), leak reports included
    Files.writeString(logback, """
        <configuration>
          <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%-5level %logger{20} - %msg%n</pattern></encoder>
          </appender>
          <logger name="io.netty" level="WARN"/>
          <root level="INFO"><appender-ref ref="STDOUT"/></root>
        </configuration>
        """, StandardCharsets.UTF_8);
    try (ChildServer server = ChildServer.start(dir, Map.of(),
        List.of("-Dio.netty.leakDetection.level=paranoid", "-Dlogback.configurationFile=" + logback),
        "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--instances", "2")) {
      int port = server.awaitReadyPort(60);
      int adminPort = server.adminPort();
      JsonObject before = sample(server.pid(), 0);

      LongAdder echoes = new LongAdder();
      LongAdder persistentConnects = new LongAdder();
      LongAdder persistentErrors = new LongAdder();
      LongAdder resets = new LongAdder();
      LongAdder resetErrors = new LongAdder();
      AtomicBoolean running = new AtomicBoolean(true);
      List<Thread> clients = new ArrayList<>();
      for (int t = 0; t < PERSISTENT_THREADS; t++) {
        clients.add(new Thread(() -> pingPong(port, running, echoes, persistentConnects, persistentErrors),
            "soak-persistent-" + t));
      }
      clients.add(new Thread(() -> resetting(port, running, resets, resetErrors), "soak-resetting"));
      clients.forEach(Thread::start);
      JsonArray samples = new JsonArray().add(before.copy().put("phase", "idle before"));
      long sampleEveryMs = Math.max(5_000, seconds * 1_000 / 20);
      JsonObject churned;
      try (Churn churn = new Churn(port, CHURN_TCP_THREADS, CHURN_UDP_THREADS)) {
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
          // the soak's sampling period, not a wait for anything
          Thread.sleep(Math.min(sampleEveryMs, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
          samples.add(sample(server.pid(), (System.nanoTime() - start) / 1_000_000_000L)
              .put("tcpAttempts", churn.tcpAttempts.sum()).put("udpSent", churn.udpSent.sum())
              .put("persistentEchoes", echoes.sum()).put("resets", resets.sum()));
        }
        churn.close();
        churned = churn.counts();
      }
      running.set(false);
      for (Thread t : clients) {
        t.join(15_000);
      }
      JsonObject stats = statsOnceIdle(adminPort);
      JsonObject after = sample(server.pid(), seconds);
      samples.add(after.copy().put("phase", "idle after"));
      // the leak detector reports a collected, unreleased buffer at a later allocation: GC above, allocate here
      int lateConnections = echoAfterGc(port);
      server.terminate();
      assertThat(server.awaitExit(60)).as("exit code after SIGTERM").isZero();
      List<String> leaks = server.output().stream().filter(l -> l.contains("LEAK:")).toList();

      JsonObject result = churned.put("seconds", seconds).put("persistentEchoes", echoes.sum())
          .put("persistentConnects", persistentConnects.sum()).put("persistentErrors", persistentErrors.sum())
          .put("resets", resets.sum()).put("resetErrors", resetErrors.sum()).put("leakReports", leaks.size())
          .put("stats", stats).put("samples", samples);
      Path out = Path.of("target", "reliability");
      Files.createDirectories(out);
      Files.writeString(out.resolve("soak.json"), result.encodePrettily());
      System.out.println("soak: " + result.copy().put("samples", samples.size()).encode());
      samples.forEach(s -> System.out.println("soak sample: " + s));

      assertThat(leaks).as("Netty leak reports in the server's output").isEmpty();
      assertThat(churned.getLong("tcpFailed")).as("churn failures: %s", churned.getJsonObject("reasons")).isZero();
      assertThat(churned.getLong("udpLost")).as("datagrams without an echo").isZero();
      assertThat(persistentErrors.sum()).as("persistent echo failures").isZero();
      assertThat(resetErrors.sum()).as("resetting clients' failures").isZero();

      JsonObject tcp = stats.getJsonObject("totals").getJsonObject("tcp");
      long connections = churned.getLong("tcpAttempts") + persistentConnects.sum() + resets.sum();
      assertThat(tcp.getLong("active")).as("connections counted open once every client closed").isZero();
      assertThat(tcp.getLong("accepted")).as("accepted = closed + active")
          .isEqualTo(tcp.getLong("closed") + tcp.getLong("active"));
      assertThat(tcp.getLong("accepted")).as("accepted = the connections the clients made").isEqualTo(connections);
      assertThat(tcp.getLong("resets")).as("resets = the clients that closed with one").isEqualTo(resets.sum());
      assertThat(tcp.getLong("errors")).as("errors: none of these clients misbehaved").isZero();
      assertThat(tcp.getLong("rejected")).isZero();
      JsonObject udp = stats.getJsonObject("totals").getJsonObject("udp");
      assertThat(udp.getLong("datagramsIn")).as("datagrams in = out + reply drops + errors")
          .isEqualTo(udp.getLong("datagramsOut") + udp.getLong("replyDrops") + udp.getLong("errors"));
      assertThat(churned.getLong("udpSent")).as("datagrams sent = received + dropped by the kernel")
          .isEqualTo(udp.getLong("datagramsIn") + udp.getLong("drops"));

      assertThat(after.getLong("fds")).as("open descriptors of the idle server, before: %s", before.getLong("fds"))
          .isLessThanOrEqualTo(before.getLong("fds") + FD_SLACK);
      assertThat(after.getLong("heapAfterGcMiB")).as("heap after GC of the idle server, before: %s MiB",
          before.getLong("heapAfterGcMiB")).isLessThanOrEqualTo(before.getLong("heapAfterGcMiB") + HEAP_GROWTH_MIB);
      assertThat(lateConnections).isPositive();
    }
  }

  /**
   * {@code /stats?fresh=true} once no connection is counted open: the server learns of the clients' last closes
   * after they made them. Asks every 100 ms, at most 30 s.
   */
  private JsonObject statsOnceIdle(int adminPort) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + adminPort + AdminRoutes.STATS + "?fresh=true"))
        .timeout(Duration.ofSeconds(10)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      JsonObject stats = new JsonObject(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
      if (stats.getJsonObject("totals").getJsonObject("tcp").getLong("active") == 0
          || System.nanoTime() > deadline) {
        return stats;
      }
      // a bounded poll of another process's state
      Thread.sleep(100);
    }
  }

  /** A few echoes on fresh connections: allocations in the server after the last GC. Returns how many. */
  private static int echoAfterGc(int port) throws IOException {
    int done = 0;
    for (int i = 0; i < 20; i++) {
      try (Socket s = Clients.connect(port)) {
        s.getOutputStream().write(PING);
        if (s.getInputStream().readNBytes(PING.length).length == PING.length) {
          done++;
        }
      }
    }
    return done;
  }

  /** {@value #PERSISTENT_PER_THREAD} connections per thread, 64-byte ping-pong round robin; a failure reconnects. */
  private static void pingPong(int port, AtomicBoolean running, LongAdder echoes, LongAdder connects,
                               LongAdder errors) {
    byte[] in = new byte[PING.length];
    Socket[] sockets = new Socket[PERSISTENT_PER_THREAD];
    while (running.get()) {
      for (int i = 0; i < sockets.length && running.get(); i++) {
        try {
          if (sockets[i] == null) {
            sockets[i] = Clients.connect(port);
            connects.increment();
          }
          OutputStream o = sockets[i].getOutputStream();
          InputStream is = sockets[i].getInputStream();
          o.write(PING);
          if (is.readNBytes(in, 0, in.length) != in.length || !Arrays.equals(in, PING)) {
            throw new IOException("short or wrong echo");
          }
          echoes.increment();
        } catch (IOException e) {
          errors.increment();
          closeQuietly(sockets[i]);
          sockets[i] = null;
        }
      }
    }
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  /** Connect, one echo, close with a reset ({@code SO_LINGER} 0), as load balancers' health checks do. */
  private static void resetting(int port, AtomicBoolean running, LongAdder resets, LongAdder errors) {
    byte[] in = new byte[PING.length];
    while (running.get()) {
      try (Socket s = Clients.connect(port)) {
        s.getOutputStream().write(PING);
        if (s.getInputStream().readNBytes(in, 0, in.length) != in.length) {
          throw new IOException("short echo");
        }
        s.setSoLinger(true, 0);
        resets.increment();
      } catch (IOException e) {
        errors.increment();
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      if (s != null) {
        s.close();
      }
    } catch (IOException ignored) {
      // closing at the end
    }
  }

  /** The server's heap after a full GC, resident memory and open descriptors. */
  private static JsonObject sample(long pid, long atSeconds) throws Exception {
    jcmd(pid, "GC.run");
    String heap = String.join("\n", jcmd(pid, "GC.heap_info"));
    long usedKb = Long.parseLong(heap.replaceAll("(?s).*?used (\\d+)K.*", "$1"));
    String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
    long rssKb = Long.parseLong(status.replaceAll("(?s).*VmRSS:\\s+(\\d+) kB.*", "$1"));
    long fds;
    try (Stream<Path> list = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds = list.count();
    }
    return new JsonObject().put("atSeconds", atSeconds).put("heapAfterGcMiB", usedKb / 1024)
        .put("rssMiB", rssKb / 1024).put("fds", fds);
  }

  private static List<String> jcmd(long pid, String command) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(pid), command).redirectErrorStream(true).start();
    List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    p.waitFor(30, TimeUnit.SECONDS);
    return lines;
  }
}
