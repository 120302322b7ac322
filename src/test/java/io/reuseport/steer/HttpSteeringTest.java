package io.reuseport.steer;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.RouterHttpService;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design, as the byte services' steering tests: what is tested is where the kernel puts each SYN while
// a loop is really blocked or a stranger really sits in the group.
/**
 * Steering holds for HTTP services: their listeners are ours, in the selector's map. While one instance's loop is
 * blocked (a request that sleeps in the Router), every fresh HTTP connection started 500 ms into the stall is
 * answered by another instance with the BPF selector, and with the kernel's hash (the control, in the same test)
 * some reach the stalled loop and miss their deadline. A stranger process that joins the port gets no HTTP
 * connection with the selector and a share with the kernel's hash. Root only (CAP_BPF).
 */
@Timeout(180)
class HttpSteeringTest {

  private static final int INSTANCES = 4;
  private static final long STALL_MS = 3_000;
  private static final int DEADLINE_MS = 1_000;
  private static final long STEERED_AFTER_MS = 500;
  private static final int CLIENTS = 4;
  private static final int CONNECTIONS = 64;
  private static final String PYTHON = "/usr/bin/python3";

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @Test
  void aStalledLoopGetsNoNewHttpConnectionWithBpfAndSomeWithTheKernelsHash() throws Exception {
    List<Attempt> bpf = duringAStall("bpf");
    List<Attempt> kernel = duringAStall("kernel");
    List<Attempt> bpfLate = late(bpf);
    long kernelFailed = late(kernel).stream().filter(a -> !a.ok).count();
    System.out.printf("http stall: bpf %d connections started >= %d ms, %d failed; kernel %d, %d failed%n",
        bpfLate.size(), STEERED_AFTER_MS, bpfLate.stream().filter(a -> !a.ok).count(), late(kernel).size(),
        kernelFailed);
    assertThat(bpfLate).as("bpf: connections started >= 500 ms into the stall").hasSizeGreaterThan(10)
        .allMatch(a -> a.ok && !a.stalledInstance);
    assertThat(kernelFailed).as("kernel (control): connections lost to the stalled loop").isPositive();
  }

  @Test
  void aStrangerInTheGroupGetsNoHttpConnectionWithBpfAndSomeWithTheKernelsHash() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "skipped: needs " + PYTHON + " for the stranger");
    int[] bpf = strangerShare("bpf");
    int[] kernel = strangerShare("kernel");
    System.out.printf("http locked group: the stranger got %d of %d fresh connections with bpf, %d with the kernel's"
        + " hash%n", bpf[0], CONNECTIONS, kernel[0]);
    assertThat(bpf).as("bpf: connections the stranger got, connections we answered")
        .containsExactly(0, CONNECTIONS);
    assertThat(kernel[0]).as("kernel (control): connections the stranger got").isPositive();
  }

  /** Fresh connections from several clients while one instance's loop is blocked. */
  private static List<Attempt> duringAStall(String steering) throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("service", RouterHttpService.NAME)
        .put("instances", INSTANCES).put("steering", steering));
    try (Socket stall = Clients.connect(server.port())) {
      assertThat(server.steering().active()).isEqualTo(steering.equals("bpf"));
      stall.setSoTimeout((int) STALL_MS * 5);
      int stalled = instanceOf(stall, "keep-alive");
      stall.getOutputStream().write(("GET /stall?ms=" + STALL_MS + " HTTP/1.1\r\nHost: x\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      long began = System.nanoTime();
      LongSupplier elapsedMs = () -> TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
      List<Attempt> attempts = ConcurrentAttempts.repeat(CLIENTS, STALL_MS * 3,
          () -> elapsedMs.getAsLong() < STALL_MS - DEADLINE_MS,
          () -> attempt(server.port(), elapsedMs.getAsLong(), stalled));
      assertThat(new String(stall.getInputStream().readNBytes(12), StandardCharsets.US_ASCII))
          .isEqualTo("HTTP/1.1 200");
      return attempts;
    } finally {
      server.stop().await();
    }
  }

  private static Attempt attempt(int port, long startedMs, int stalled) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(Clients.LOOPBACK, port), DEADLINE_MS);
      s.setSoTimeout(DEADLINE_MS);
      int instance = instanceOf(s, "close");
      return new Attempt(startedMs, instance >= 0, instance == stalled);
    } catch (IOException e) {
      return new Attempt(startedMs, false, false);
    }
  }

  /** {@code GET /id} on {@code s}: the instance that answered. */
  private static int instanceOf(Socket s, String connection) throws IOException {
    s.getOutputStream().write(("GET /id HTTP/1.1\r\nHost: x\r\nConnection: " + connection + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    StringBuilder text = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      text.append((char) c);
      if (c == '}') {
        break;
      }
    }
    String body = text.substring(text.indexOf("{"));
    return new JsonObject(body).getInteger("instance");
  }

  private static List<Attempt> late(List<Attempt> attempts) {
    return attempts.stream().filter(a -> a.startedMs >= STEERED_AFTER_MS).toList();
  }

  /** With a stranger on the port: {connections it got, connections we answered} of {@link #CONNECTIONS}. */
  private static int[] strangerShare(String steering) throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("service", RouterHttpService.NAME)
        .put("instances", INSTANCES).put("steering", steering));
    Process stranger = null;
    try {
      stranger = new ProcessBuilder(PYTHON, "-u", "-c", String.join("\n",
          "import socket, sys",
          "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)",
          "s.bind(('127.0.0.1', " + server.port() + "))",
          "s.listen(128)",
          "print('ready')",
          "held = []",
          "while True:",
          "    c, _ = s.accept()",
          "    held.append(c)",
          "    print('got')")).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(stranger.getInputStream(),
          StandardCharsets.US_ASCII));
      assertThat(out.readLine()).isEqualTo("ready");
      AtomicInteger got = new AtomicInteger();
      Thread counter = new Thread(() -> out.lines().filter("got"::equals).forEach(line -> got.incrementAndGet()));
      counter.setDaemon(true);
      counter.start();
      int answered = 0;
      for (int i = 0; i < CONNECTIONS; i++) {
        // a connection the stranger took waits out the deadline: by then the stranger has said it got it
        answered += attempt(server.port(), 0, -1).ok ? 1 : 0;
      }
      return new int[] {got.get(), answered};
    } finally {
      if (stranger != null) {
        stranger.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      server.stop().await();
    }
  }

  private record Attempt(long startedMs, boolean ok, boolean stalledInstance) {
  }
}
