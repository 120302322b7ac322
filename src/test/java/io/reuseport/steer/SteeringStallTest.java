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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One instance's event loop blocked for 3 s, fresh connections and datagrams with a 1 s deadline from several
 * clients: the BPF selector steers around it, on epoll and on io_uring, the kernel's hash does not. Blocking
 * clients on purpose: what is tested is where the kernel puts each new 4-tuple during a real stall. Root only
 * (CAP_BPF).
 */
@Timeout(120)
class SteeringStallTest {

  private static final int INSTANCES = 4;
  static final long STALL_MS = 3_000;
  private static final int DEADLINE_MS = 1_000;
  private static final int CLIENTS = 4;
  /** Connections started this long after the stall began must all succeed with the selector. */
  static final long STEERED_AFTER_MS = 500;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"epoll", "io_uring"})
  void withBpfEveryConnectionStartedHalfASecondIntoTheStallSucceedsAndTheInstanceComesBack(String transport)
      throws Exception {
    RunningServer server = start("bpf", transport);
    try {
      assertThat(server.transport()).isEqualTo(transport);
      assertThat(server.steering().active()).isTrue();
      // the HTTP client and the admin routes warmed up, so that reading them during the stall is quick
      Admin.get(server.adminPort(), "/stats");
      Admin.get(server.adminPort(), "/metrics");
      Stall stall = Stall.begin(server.port());
      // what an operator sees once the watchdog reacted (polled alongside the clients, bounded by the stall)
      CompletableFuture<JsonObject[]> observed = CompletableFuture.supplyAsync(() -> awaitSteeredAround(
          server.adminPort(), stall));
      List<Attempt> attempts = during(stall, () -> tcpAttempt(server.port(), stall));
      JsonObject stats = observed.get()[0];
      String metrics = observed.get()[1].getString("text");
      stall.awaitEnd();

      List<Attempt> late = attempts.stream().filter(a -> a.startedMs >= STEERED_AFTER_MS).toList();
      System.out.printf("bpf: %d connections, %d started >= %d ms into the stall, %d of them failed%n",
          attempts.size(), late.size(), STEERED_AFTER_MS, late.stream().filter(a -> !a.ok).count());
      assertThat(late).as("connections started >= 500 ms into the stall").hasSizeGreaterThan(20)
          .allMatch(a -> a.ok && a.instance != stall.instance);
      JsonObject steering = stats.getJsonObject("steering");
      assertThat(steering.getString("selector")).isEqualTo("bpf");
      JsonObject during = stats.getJsonArray("instances").getJsonObject(stall.instance).getJsonObject("steering");
      assertThat(during.getBoolean("steeredAround")).isTrue();
      assertThat(during.getDouble("tableShare")).isZero();
      assertThat(during.getLong("since")).isPositive();
      assertThat(during.getString("why")).contains("no progress");
      assertThat(metrics).contains("reuseport_steering_active 1.0")
          .contains("reuseport_instance_steered_around{worker=\"" + stall.instance + "\"} 1.0")
          .contains("reuseport_instance_table_share{worker=\"" + stall.instance + "\"} 0.0");

      // back in the table once it has run again for the recovery time: fresh connections reach it again
      assertThat(Clients.reachesInstance(server.port(), stall.instance)).as("instance %d gets connections again",
          stall.instance).isTrue();
    } finally {
      server.stop().await();
    }
  }

  @Test
  void withTheKernelsHashConnectionsStartedDuringTheStallFail() throws Exception {
    RunningServer server = start("kernel");
    try {
      assertThat(server.steering().active()).isFalse();
      Stall stall = Stall.begin(server.port());
      List<Attempt> attempts = during(stall, () -> tcpAttempt(server.port(), stall));
      stall.awaitEnd();
      long failed = attempts.stream().filter(a -> a.startedMs >= STEERED_AFTER_MS && !a.ok).count();
      System.out.printf("kernel: %d connections, %d started >= %d ms into the stall failed%n", attempts.size(),
          failed, STEERED_AFTER_MS);
      assertThat(failed).as("connections lost to the stalled instance's queue").isPositive();
    } finally {
      server.stop().await();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"epoll", "io_uring"})
  void withBpfNewUdpFlowsReachALiveInstanceDuringTheStall(String transport) throws Exception {
    RunningServer server = start("bpf", transport);
    try {
      Stall stall = Stall.begin(server.port());
      List<Attempt> attempts = during(stall, () -> udpAttempt(server.port(), stall));
      stall.awaitEnd();
      List<Attempt> late = attempts.stream().filter(a -> a.startedMs >= STEERED_AFTER_MS).toList();
      System.out.printf("bpf udp: %d new flows, %d started >= %d ms into the stall, %d unanswered%n",
          attempts.size(), late.size(), STEERED_AFTER_MS, late.stream().filter(a -> !a.ok).count());
      assertThat(late).as("new flows started >= 500 ms into the stall").hasSizeGreaterThan(20)
          .allMatch(a -> a.ok && a.instance != stall.instance);
    } finally {
      server.stop().await();
    }
  }

  @Test
  void withBpfAUdpFlowMovesOnlyWhileItsInstanceIsOutAndStaysWhereItWent() throws Exception {
    RunningServer server = start("bpf");
    List<DatagramSocket> flows = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        DatagramSocket flow = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0));
        flow.setSoTimeout(DEADLINE_MS);
        flows.add(flow);
      }
      int[] before = instancesOf(flows, server.port());
      Stall stall = Stall.begin(server.port());
      // wait (bounded) until the selector steers around it
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (!server.steering().toJson().getJsonArray("instances").getJsonObject(stall.instance)
          .getBoolean("steeredAround") && System.nanoTime() < deadline) {
        // poll pause: the steering view has no change event; the loop ends on the flag or the deadline
        Thread.sleep(10);
      }
      int[] during = instancesOf(flows, server.port());
      stall.awaitEnd();
      // back in the table after the recovery time: new traffic reaches it again
      assertThat(Clients.reachesInstance(server.port(), stall.instance)).isTrue();
      int[] after = instancesOf(flows, server.port());

      int moved = 0;
      for (int i = 0; i < flows.size(); i++) {
        if (before[i] == stall.instance) {
          moved++;
          assertThat(during[i]).as("flow %d of the stalled instance, during the stall", i)
              .isNotEqualTo(stall.instance).isNotNegative();
          assertThat(after[i]).as("flow %d after the stall: stays where it went", i).isEqualTo(during[i]);
        } else {
          assertThat(during[i]).as("flow %d of a healthy instance, during the stall", i).isEqualTo(before[i]);
          assertThat(after[i]).as("flow %d of a healthy instance, after", i).isEqualTo(before[i]);
        }
      }
      assertThat(moved).as("flows that were on the stalled instance").isPositive();
    } finally {
      flows.forEach(DatagramSocket::close);
      server.stop().await();
    }
  }

  /**
   * {@code /stats} and {@code /metrics} once {@code /stats} shows the stalled instance steered around, or the last
   * ones read before the stall ends.
   */
  private static JsonObject[] awaitSteeredAround(int adminPort, Stall stall) {
    try {
      JsonObject stats;
      do {
        stats = new JsonObject(Admin.get(adminPort, "/stats").body());
        JsonObject mine = stats.getJsonArray("instances").getJsonObject(stall.instance).getJsonObject("steering");
        if (mine.getBoolean("steeredAround")) {
          break;
        }
        // poll pause of /stats: the loop ends on the flag or with the stall
        Thread.sleep(20);
        // it stays steered around until it has run again for the recovery time after the stall
      } while (stall.elapsedMs() < STALL_MS + 500);
      String metrics = Admin.get(adminPort, "/metrics").body();
      return new JsonObject[] {stats, new JsonObject().put("text", metrics)};
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Each flow asks its instance's id once; -1 for no answer within the deadline. */
  private static int[] instancesOf(List<DatagramSocket> flows, int port) {
    int[] ids = new int[flows.size()];
    for (int i = 0; i < ids.length; i++) {
      try {
        ids[i] = Clients.instanceOf(flows.get(i), port);
      } catch (IOException e) {
        ids[i] = -1;
      }
    }
    return ids;
  }

  private static RunningServer start(String steering) {
    return start(steering, "epoll");
  }

  private static RunningServer start(String steering, String transport) {
    if (transport.equals("io_uring")) {
      Assumptions.assumeTrue(IoUring.isAvailable(), () -> "skipped: io_uring unavailable here: "
          + IoUring.unavailabilityCause());
    }
    return Servers.start(new JsonObject().put("service", "stall").put("instances", INSTANCES)
        .put("steering", steering).put("transport", transport));
  }

  /** Runs {@code attempt} from several clients, one after the other each, until shortly before the stall ends. */
  private static List<Attempt> during(Stall stall, Supplier<Attempt> attempt) throws Exception {
    return ConcurrentAttempts.repeat(CLIENTS, STALL_MS * 3, () -> stall.elapsedMs() < STALL_MS - DEADLINE_MS / 2,
        attempt);
  }

  /** A fresh connection asks its instance's id, within the deadline. */
  static Attempt tcpAttempt(int port, Stall stall) {
    long started = stall.elapsedMs();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(Clients.LOOPBACK, port), DEADLINE_MS);
      s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      int instance = Clients.instanceOf(s);
      return new Attempt(started, instance >= 0, instance);
    } catch (IOException e) {
      return new Attempt(started, false, -1);
    }
  }

  /** A new flow (a fresh UDP socket) asks its instance's id, within the deadline. */
  private static Attempt udpAttempt(int port, Stall stall) {
    long started = stall.elapsedMs();
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0))) {
      s.setSoTimeout(DEADLINE_MS);
      return new Attempt(started, true, Clients.instanceOf(s, port));
    } catch (IOException e) {
      return new Attempt(started, false, -1);
    }
  }

  record Attempt(long startedMs, boolean ok, int instance) {
  }

  /** A connection that blocks its instance's loop for {@link #STALL_MS}. */
  static final class Stall {
    private final Socket socket;
    private final BufferedReader in;
    final int instance;
    private final long startedAt;

    private Stall(Socket socket, BufferedReader in, int instance, long startedAt) {
      this.socket = socket;
      this.in = in;
      this.instance = instance;
      this.startedAt = startedAt;
    }

    static Stall begin(int port) throws IOException {
      Socket s = Clients.connect(port);
      s.setSoTimeout((int) STALL_MS * 5);
      // the service sends nothing more until the stall ends: a reader of its own for the id reads no further
      int id = Clients.instanceOf(s);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      s.getOutputStream().write(("stall " + STALL_MS + "\n").getBytes(StandardCharsets.US_ASCII));
      return new Stall(s, in, id, System.nanoTime());
    }

    long elapsedMs() {
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
    }

    void awaitEnd() throws IOException {
      assertThat(in.readLine()).isEqualTo("stalled");
      socket.close();
    }
  }
}
