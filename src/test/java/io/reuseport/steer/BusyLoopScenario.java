package io.reuseport.steer;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * The busy-loop scenario of issue 22, against a running server of the {@code burn} service
 * ({@link io.reuseport.testsupport.BurnService}): two persistent connections on instance 0 ask for back-to-back
 * 20 ms CPU bursts (its loop never stalls), while fresh connections from several threads each connect, ask one
 * request ({@code id}: which instance answered) and close. Bounded in count and in time. Blocking clients on
 * purpose: what is measured is where the kernel puts each new 4-tuple. Shared by {@code LoadSteeringTest} and the
 * benchmark {@code bench/load.sh}, which runs {@link #main} against a server process.
 */
final class BusyLoopScenario {

  static final int BUSY_INSTANCE = 0;
  static final int BURNERS = 2;
  static final int BURST_MS = 20;
  private static final int DEADLINE_MS = 2_000;

  /** One fresh connection: which instance answered (-1: none), and how long connect + request + answer took. */
  record Attempt(boolean ok, int instance, long micros) {
  }

  /** What the fresh connections saw. */
  record Result(List<Attempt> attempts) {

    long failed() {
      return attempts.stream().filter(a -> !a.ok).count();
    }

    long reachedBusy() {
      return attempts.stream().filter(a -> a.instance == BUSY_INSTANCE).count();
    }

    double reachedBusyShare() {
      return (double) reachedBusy() / Math.max(1, attempts.size());
    }

    /** Latency percentile {@code p} (0..100) of the answered ones, in ms; NaN when none answered. */
    double percentileMs(double p) {
      long[] sorted = attempts.stream().filter(Attempt::ok).mapToLong(Attempt::micros).sorted().toArray();
      if (sorted.length == 0) {
        return Double.NaN;
      }
      int index = (int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1);
      return sorted[Math.max(0, index)] / 1000.0;
    }

    JsonObject toJson() {
      return new JsonObject()
          .put("connections", attempts.size())
          .put("failed", failed())
          .put("reachedBusy", reachedBusy())
          .put("reachedBusyPercent", Math.round(reachedBusyShare() * 1000) / 10.0)
          .put("p50Ms", percentileMs(50))
          .put("p99Ms", percentileMs(99))
          .put("maxMs", percentileMs(100));
    }

    @Override
    public String toString() {
      return toJson().encode();
    }
  }

  private final int port;
  private final List<Socket> burners = new ArrayList<>();
  private final AtomicBoolean burning = new AtomicBoolean();
  private final ExecutorService burnerThreads = Executors.newFixedThreadPool(BURNERS);

  private BusyLoopScenario(int port) {
    this.port = port;
  }

  /**
   * Opens the persistent connections on instance {@link #BUSY_INSTANCE} and starts their back-to-back bursts.
   * Works with the kernel's hash and with an even table alike (a connection that lands elsewhere is closed).
   */
  static BusyLoopScenario start(int port) throws IOException {
    BusyLoopScenario scenario = new BusyLoopScenario(port);
    scenario.burning.set(true);
    for (int i = 0; i < BURNERS; i++) {
      Socket s = Clients.connectionToInstance(port, BUSY_INSTANCE);
      scenario.burners.add(s);
      scenario.burnerThreads.submit(() -> scenario.burn(s));
    }
    return scenario;
  }

  /** Asks for one burst after the other until {@link #stop}; bounded by the socket timeout per burst. */
  private Void burn(Socket s) throws IOException {
    OutputStream out = s.getOutputStream();
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    byte[] burst = ("burn " + BURST_MS + "\n").getBytes(StandardCharsets.US_ASCII);
    while (burning.get()) {
      out.write(burst);
      if (in.readLine() == null) {
        break;
      }
    }
    return null;
  }

  /**
   * Fresh connections from {@code threads} threads, each at most {@code perThread} connections and all within
   * {@code maxMs}.
   */
  Result freshConnections(int threads, int perThread, long maxMs) throws Exception {
    Queue<Attempt> all = new ConcurrentLinkedQueue<>();
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMs);
    ExecutorService clients = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        running.add(clients.submit(() -> {
          for (int i = 0; i < perThread && System.nanoTime() < end; i++) {
            all.add(attempt(port));
          }
          return null;
        }));
      }
      for (Future<?> f : running) {
        f.get(maxMs + 2L * DEADLINE_MS, TimeUnit.MILLISECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
    return new Result(new ArrayList<>(all));
  }

  /** Connect, one request, close, within {@link #DEADLINE_MS}. */
  static Attempt attempt(int port) {
    long started = System.nanoTime();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(Clients.LOOPBACK, port), DEADLINE_MS);
      s.setSoTimeout(DEADLINE_MS);
      int instance = Clients.instanceOf(s);
      return new Attempt(instance >= 0, instance, (System.nanoTime() - started) / 1_000);
    } catch (IOException e) {
      return new Attempt(false, -1, (System.nanoTime() - started) / 1_000);
    }
  }

  /** Ends the bursts and closes the persistent connections. */
  void stop() throws InterruptedException {
    burning.set(false);
    burnerThreads.shutdown();
    burnerThreads.awaitTermination(DEADLINE_MS, TimeUnit.MILLISECONDS);
    for (Socket s : burners) {
      try {
        s.close();
      } catch (IOException e) {
        // closing a test client: nothing to keep
      }
    }
    burnerThreads.shutdownNow();
  }

  /** Each instance's {@code steering} view in {@code /stats}: tableShare, loopBusy, shareReason, ... */
  static List<JsonObject> steering(int adminPort) throws IOException, InterruptedException {
    JsonArray instances = new JsonObject(Admin.get(adminPort, "/stats").body()).getJsonObject("steering")
        .getJsonArray("instances");
    List<JsonObject> views = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      views.add(instances.getJsonObject(i));
    }
    return views;
  }

  /**
   * Polls {@code /stats} (every 50 ms, at most {@code maxMs}) until instance {@link #BUSY_INSTANCE}'s share has
   * the reason {@code busy ...} and is below {@code below}; the last view either way.
   */
  static List<JsonObject> awaitBusy(int adminPort, long maxMs, double below)
      throws IOException, InterruptedException {
    return await(adminPort, maxMs, views -> String.valueOf(views.get(BUSY_INSTANCE).getString("shareReason"))
        .startsWith("busy") && views.get(BUSY_INSTANCE).getDouble("tableShare") < below);
  }

  /** Polls {@code /stats} until every instance's tableShare is within {@code [low, high]}; the last view. */
  static List<JsonObject> awaitShares(int adminPort, long maxMs, double low, double high)
      throws IOException, InterruptedException {
    return await(adminPort, maxMs, views -> views.stream().allMatch(v -> v.getDouble("tableShare") != null
        && v.getDouble("tableShare") >= low && v.getDouble("tableShare") <= high));
  }

  private static List<JsonObject> await(int adminPort, long maxMs, Predicate<List<JsonObject>> done)
      throws IOException, InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMs);
    List<JsonObject> views = steering(adminPort);
    while (!done.test(views) && System.nanoTime() < end) {
      // poll pause: /stats has no change event; the loop ends on the condition or the deadline
      Thread.sleep(50);
      views = steering(adminPort);
    }
    return views;
  }

  /**
   * For the benchmark: {@code PORT ADMIN_PORT THREADS PER_THREAD MAX_SECONDS}; prints one JSON line: the fresh
   * connections' result, how long until the selector marked the instance busy and its share was under 5 %
   * ({@code -1}: it did not, or the kernel steers; the fresh connections start then), and how long after the bursts ended until every share was back within 0.2-0.3.
   */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int adminPort = Integer.parseInt(args[1]);
    int[] counts = Arrays.stream(args, 2, 5).mapToInt(Integer::parseInt).toArray();
    boolean steered = "bpf".equals(new JsonObject(Admin.get(adminPort, "/stats").body()).getJsonObject("steering")
        .getString("selector"));
    BusyLoopScenario scenario = start(port);
    long started = System.nanoTime();
    long busyAfterMs = -1;
    if (steered) {
      List<JsonObject> views = awaitBusy(adminPort, 15_000, 0.05);
      if (views.get(BUSY_INSTANCE).getString("shareReason").startsWith("busy")
          && views.get(BUSY_INSTANCE).getDouble("tableShare") < 0.05) {
        busyAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      }
    }
    Result result = scenario.freshConnections(counts[0], counts[1], counts[2] * 1_000L);
    List<JsonObject> during = steering(adminPort);
    scenario.stop();
    long stopped = System.nanoTime();
    long evenAfterMs = -1;
    if (steered) {
      List<JsonObject> views = awaitShares(adminPort, 15_000, 0.2, 0.3);
      if (views.stream().allMatch(v -> v.getDouble("tableShare") >= 0.2 && v.getDouble("tableShare") <= 0.3)) {
        evenAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
      }
    }
    System.out.println(result.toJson().put("busyAfterMs", busyAfterMs).put("evenAgainAfterMs", evenAfterMs)
        .put("busyShareDuring", during.get(BUSY_INSTANCE).getDouble("tableShare"))
        .put("busyReasonDuring", during.get(BUSY_INSTANCE).getString("shareReason")).encode());
  }
}
